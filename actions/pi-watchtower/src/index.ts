import { run } from "@smoker/action-kit";
import { main } from "./main.js";

await run(main);
