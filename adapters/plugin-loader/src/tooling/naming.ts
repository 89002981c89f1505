/** Naming rules of plugins, providers and blocks, shared by the scaffold, validate and import. */

/** Package directory names: `acme-crm`. */
export const KEBAB_CASE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
/** Block action names (the part after the dot of a block id): `create_contact`. */
export const SNAKE_CASE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
/** Provider names: lowercase words joined by `_` or `-`: `acme_crm`, `google-sheets`. */
export const PROVIDER_NAME = /^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)*$/;

export const isKebabCase = (s: string): boolean => KEBAB_CASE.test(s);
export const isSnakeCase = (s: string): boolean => SNAKE_CASE.test(s);

/** The words of a name in any case style: `createContact`, `create-contact`, `Create contact` -> create, contact. */
export function words(s: string): string[] {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** `getItems` -> `get_items`; a leading digit gets an `x_` prefix so the result is a valid name. */
export function toSnakeCase(s: string): string {
  const joined = words(s).join('_');
  return /^[0-9]/.test(joined) ? `x_${joined}` : joined || 'x';
}

/** `acme_crm` -> `AcmeCrm`. */
export function toPascalCase(s: string): string {
  return words(s)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

/** `acme-crm` -> `Acme Crm`; `create_contact` -> `Create contact` with `sentence`. */
export function toTitle(s: string, sentence = false): string {
  const ws = words(s);
  return ws.map((w, i) => (i === 0 || !sentence ? w[0]!.toUpperCase() + w.slice(1) : w)).join(' ');
}

/**
 * The provider names a plugin may use in its block ids without declaring them: its package
 * name without scope, in snake_case, and the same without a `plugin-` / `blockyard-` prefix or
 * `-plugin` suffix. `@blockyard/plugin-example` -> example; `acme-crm` -> acme_crm.
 */
export function ownProviderNames(pluginName: string): string[] {
  const base = pluginName.replace(/^@[^/]+\//, '');
  const stripped = base.replace(/^(?:blockyard-plugin-|plugin-|blockyard-)/, '').replace(/-(?:blockyard-plugin|plugin|blockyard)$/, '');
  return [...new Set([toSnakeCase(stripped), toSnakeCase(base)])];
}

/** Provider names compare with `-` and `_` alike (`acme-crm` is `acme_crm`). */
export function sameProviderName(a: string, b: string): boolean {
  return a.replace(/-/g, '_') === b.replace(/-/g, '_');
}

/** A JSON pointer (RFC 6901) from its segments. */
export function pointer(...segments: ReadonlyArray<string | number>): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
