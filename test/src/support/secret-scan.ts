/**
 * Finds secrets in text a test collected (HTTP responses, logs, CLI output), in the forms a
 * leak takes: as is, URL- and form-encoded, JSON-escaped, hex, and base64 / base64url at any
 * byte alignment (so `Basic base64(user:password)` gives the password away too).
 */

/** Text collected from one place: one HTTP response, one process's output ... */
export interface ScanSource {
  /** Where it came from, for the report: `HTTP 201 POST /api/v1/api-keys`, `server#1 output`. */
  label: string;
  text: string;
}

export interface SecretFinding {
  /** The secret's label (never its value). */
  secret: string;
  /** Which form of it was found: `raw`, `url`, `base64@1` ... */
  form: string;
  source: string;
}

interface Secret {
  label: string;
  forms: Array<{ form: string; text: string }>;
  /** Sources allowed to hold it: its one-time display. */
  allowedIn: Set<string>;
}

/** The shortest encoded fragment still worth looking for (shorter ones match by chance). */
const MIN_FRAGMENT = 12;

/** The forms a secret's bytes take when encoded; each at least MIN_FRAGMENT characters. */
export function encodedForms(value: string | Buffer): Array<{ form: string; text: string }> {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const forms: Array<{ form: string; text: string }> = [];
  if (typeof value === 'string') {
    forms.push({ form: 'raw', text: value });
    forms.push({ form: 'url', text: encodeURIComponent(value) });
    forms.push({ form: 'form', text: new URLSearchParams({ x: value }).toString().slice(2) });
    forms.push({ form: 'json', text: JSON.stringify(value).slice(1, -1) });
  }
  forms.push({ form: 'hex', text: bytes.toString('hex') });
  forms.push({ form: 'HEX', text: bytes.toString('hex').toUpperCase() });
  // Base64 of the secret inside any larger text: the characters that depend on the secret's
  // bytes alone, for each of the three alignments it can have.
  for (let offset = 0; offset < 3; offset++) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
    const encoded = padded.toString('base64').replace(/=+$/, '');
    const start = offset === 0 ? 0 : 4; // the first group mixes in the bytes before it
    const total = offset + bytes.length;
    const end = total % 3 === 0 ? encoded.length : encoded.length - ((total % 3) + 1); // the last group may mix in the bytes after it
    const core = encoded.slice(start, end);
    if (core.length < MIN_FRAGMENT) continue;
    forms.push({ form: `base64@${offset}`, text: core });
    forms.push({ form: `base64url@${offset}`, text: core.replace(/\+/g, '-').replace(/\//g, '_') });
  }
  const seen = new Set<string>();
  return forms.filter((f) => f.text.length >= MIN_FRAGMENT && !seen.has(f.text) && (seen.add(f.text), true));
}

/** The secrets a test created, and where it found them. */
export class SecretScanner {
  readonly #secrets: Secret[] = [];

  /** Looks for `value` (a string, or raw key bytes) from now on; `allowedIn`: source labels that may show it. */
  add(label: string, value: string | Buffer, allowedIn: readonly string[] = []): void {
    const length = typeof value === 'string' ? value.length : value.length;
    if (length < 8) throw new Error(`secret ${label} is too short to scan for reliably`);
    this.#secrets.push({ label, forms: encodedForms(value), allowedIn: new Set(allowedIn) });
  }

  /** Lets `source` show the secret labelled `label` (its one-time display). */
  allow(label: string, source: string): void {
    const secret = this.#secrets.find((s) => s.label === label);
    if (!secret) throw new Error(`no secret labelled ${label}`);
    secret.allowedIn.add(source);
  }

  get labels(): string[] {
    return this.#secrets.map((s) => s.label);
  }

  /** Every secret found in every source it is not allowed in. */
  scan(sources: readonly ScanSource[]): SecretFinding[] {
    const findings: SecretFinding[] = [];
    for (const source of sources) {
      for (const secret of this.#secrets) {
        if (secret.allowedIn.has(source.label)) continue;
        const form = secret.forms.find((f) => source.text.includes(f.text));
        if (form) findings.push({ secret: secret.label, form: form.form, source: source.label });
      }
    }
    return findings;
  }

  /** How many sources hold the secret labelled `label`, allowed or not. */
  count(label: string, sources: readonly ScanSource[]): number {
    const secret = this.#secrets.find((s) => s.label === label);
    if (!secret) throw new Error(`no secret labelled ${label}`);
    return sources.filter((source) => secret.forms.some((f) => source.text.includes(f.text))).length;
  }
}
