import { X509Certificate } from "node:crypto";
import { rootCertificates } from "node:tls";
import { Agent } from "undici";

export interface TlsOptions {
  /** PEM, one certificate or several; trusted IN ADDITION to Node's bundled root CAs. */
  caCertificate?: string | undefined;
  /** Skip certificate verification entirely. Only for a lab; callers should warn loudly. */
  insecureTls?: boolean | undefined;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Splits a PEM bundle into its certificates, each checked to be a readable X.509 certificate.
 * Throws an Error whose message reads after the input's name ("must be ...", "has ...").
 */
export function parseCaCertificates(pem: string): string[] {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new Error(
      "must be a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)",
    );
  }
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (cause) {
      const which = blocks.length === 1 ? "certificate" : `certificate ${i + 1}`;
      throw new Error(`has an unreadable ${which}: ${(cause as Error).message}`);
    }
  });
  return blocks;
}

/**
 * The dispatcher the checks go through. Certificates are verified unless `insecureTls` is
 * exactly true; `caCertificate` adds trust (a private CA, a self-signed service) without
 * dropping the public roots, so one gate can check internal and public URLs alike.
 */
export function dispatcherFor(options: TlsOptions = {}): Agent {
  const ca = options.caCertificate;
  if (options.insecureTls === true) {
    if (ca !== undefined) {
      throw new Error("insecureTls and caCertificate cannot be combined: pick one");
    }
    return new Agent({ connect: { rejectUnauthorized: false } });
  }
  if (ca !== undefined) {
    return new Agent({ connect: { ca: [...rootCertificates, ...parseCaCertificates(ca)] } });
  }
  return new Agent();
}
