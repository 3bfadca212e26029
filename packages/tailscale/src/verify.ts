import { type Check, dispatcherFor, type HealthReport, waitUntilHealthy } from "@smoker/health";

// Any answer from the target counts, 404 included: a path the app does not serve still proves
// the request went through the funnel to it. 5xx is what serve answers when the target is down.
const ANSWERED = Array.from({ length: 300 }, (_, i) => 200 + i);

export interface VerifyOptions {
  timeoutMs: number;
  /** Connect here instead of resolving each URL's name (like curl --resolve). */
  address: string | undefined;
  caCertificate: string | undefined;
  onAttempt?: (line: string) => void;
}

/**
 * The dispatcher for the probes. With `address`, every request connects to that address while
 * the Host header and the TLS server name stay the public name, so the certificate is still
 * checked against <host>.<tailnet>.ts.net and serve still picks its config by that name.
 */
function dispatcher(options: VerifyOptions) {
  const base = dispatcherFor({ caCertificate: options.caCertificate });
  const address = options.address;
  if (address === undefined) return { dispatcher: base, close: () => base.destroy() };
  const composed = base.compose((dispatch) => (opts, handler) => {
    const origin = new URL(String(opts.origin));
    const host = origin.host;
    origin.hostname = address.includes(":") ? `[${address}]` : address;
    const headers =
      opts.headers && !Array.isArray(opts.headers) && typeof opts.headers === "object"
        ? { ...(opts.headers as Record<string, string>), host }
        : { host };
    return dispatch({ ...opts, origin: origin.origin, headers }, handler);
  });
  return { dispatcher: composed, close: () => base.destroy() };
}

/** "status 502" when an answer came, else why none did (the accepted statuses are not listed). */
export function describe(status: number | undefined, error: string | undefined): string {
  return status !== undefined ? `status ${status}` : (error ?? "no answer");
}

/** Probes each URL until it answers (through serve/funnel to its target) or the time is up. */
export async function verifyUrls(urls: string[], options: VerifyOptions): Promise<HealthReport> {
  const checks: Check[] = urls.map((url) => ({ name: url, url, expectStatus: ANSWERED }));
  const { dispatcher: d, close } = dispatcher(options);
  try {
    return await waitUntilHealthy(checks, {
      timeoutMs: options.timeoutMs,
      successThreshold: 1,
      dispatcher: d,
      onAttempt: (a) => {
        if (a.healthy) {
          options.onAttempt?.(`${a.check.url} answered ${a.result.status}`);
        } else if (a.number === 1 || a.number % 10 === 0) {
          options.onAttempt?.(
            `${a.check.url}: ${describe(a.result.status, a.result.error)} (attempt ${a.number})`,
          );
        }
      },
    });
  } finally {
    await close();
  }
}
