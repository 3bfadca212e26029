// For unit tests: a CommandRunner that answers rendered commands from a function and records
// them, so tests pin the exact commands without a connection.
import { RemoteCommandError, type RunResult, render, type Script } from "@smoker/remote";
import type { CommandRunner } from "../commands.js";

export const ok = (stdout = ""): RunResult => ({ code: 0, stdout, stderr: "" });
export const fail = (code: number, stderr: string, stdout = ""): RunResult => ({
  code,
  stdout,
  stderr,
});

export class FakeRunner implements CommandRunner {
  readonly commands: string[] = [];

  constructor(private readonly respond: (command: string) => RunResult) {}

  async tryRun(script: Script): Promise<RunResult> {
    const command = render(script);
    this.commands.push(command);
    return this.respond(command);
  }

  async run(script: Script): Promise<RunResult> {
    const result = await this.tryRun(script);
    if (result.code !== 0) {
      throw new RemoteCommandError(
        `exit ${result.code}`,
        render(script),
        result.code,
        result.stdout,
        result.stderr,
      );
    }
    return result;
  }
}
