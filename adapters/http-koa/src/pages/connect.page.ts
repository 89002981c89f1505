import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { ConnectResultMessage } from '@blockyard/core';
import { escapeHtml, sendPage } from './html-page.js';

/** What the connect page shows. */
export interface ConnectPageView {
  clientName: string;
  clientDescription: string;
  provider: { name: string; displayName: string };
  /** The integration scopes asked for, in plain words. */
  scopes: ReadonlyArray<{ name: string; description: string }>;
  /** The user's credentials of the provider; the usable ones can be chosen. */
  choices: ReadonlyArray<{ id: string; title: string; kind: string; createdAt: Date; unusableBecause: string | null }>;
  /** The request's parameters, carried by every form. */
  hidden: Readonly<Record<'client_id' | 'scopes' | 'nonce' | 'redirect_origin', string>>;
  csrfToken: string;
  userName: string;
  userEmail: string;
  /** Offer connecting a new account through the provider's OAuth login. */
  canConnectOAuth: boolean;
  /** Offer pasting an API key. */
  canAddApiKey: boolean;
  /** The credential to preselect (one just connected). */
  selected?: string | null;
  notice?: string | null;
  error?: string | null;
}

const EXTRA_STYLE = `<style>
fieldset{border:1px solid #dde1e7;border-radius:8px;margin:1rem 0;padding:.5rem .9rem}
legend{font-weight:600;padding:0 .3rem}
label.choice{display:flex;gap:.6rem;align-items:baseline;font-weight:400;margin:.55rem 0}
label.choice.unusable{color:#8a93a3}
span.muted{color:#5a6373;font-size:.9rem}
.notice{margin:0 0 1rem;padding:.6rem .75rem;border-radius:6px;background:#e9f6ec;color:#1d5a2c;border:1px solid #bfe3c8}
hr{border:0;border-top:1px solid #dde1e7;margin:1.5rem 0}
input[type=text]{width:100%;padding:.55rem .65rem;border:1px solid #b9c0cc;border-radius:6px;font:inherit}
</style>`;

/**
 * The connect page: which app asks for which integration scopes (in plain words), who is
 * signed in, the user's accounts of the provider to choose from, Allow / Deny, and ways to
 * connect a new account (the provider's OAuth login, or an API key). Plain HTML forms carrying
 * the session's CSRF token: no JavaScript.
 */
export function connectPageHtml(view: ConnectPageView): string {
  const app = escapeHtml(view.clientName);
  const provider = escapeHtml(view.provider.displayName);
  const action = `/connect/${encodeURIComponent(view.provider.name)}`;
  const hidden = [
    ...Object.entries(view.hidden).map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`),
    `<input type="hidden" name="csrf_token" value="${escapeHtml(view.csrfToken)}">`,
  ].join('\n');
  const usable = view.choices.filter((c) => !c.unusableBecause);
  const selected = usable.find((c) => c.id === view.selected)?.id ?? usable[0]?.id;
  const scopes = view.scopes.length
    ? `<p><strong>${app}</strong> asks to use your ${provider} account to:</p>
<ul class="scopes">
${view.scopes.map((s) => `<li>${escapeHtml(s.description)} <code>${escapeHtml(s.name)}</code></li>`).join('\n')}
</ul>`
    : `<p><strong>${app}</strong> asks to use your ${provider} account.</p>`;
  const choices = view.choices.length
    ? view.choices
        .map((c) => {
          const meta = `${escapeHtml(c.kind.replace('_', ' '))} · added ${c.createdAt.toISOString().slice(0, 10)}`;
          if (c.unusableBecause) {
            return `<label class="choice unusable"><input type="radio" name="credential_id" value="${escapeHtml(c.id)}" disabled> <span>${escapeHtml(c.title)} <span class="muted">(${meta}; cannot be used: ${escapeHtml(c.unusableBecause)})</span></span></label>`;
          }
          return `<label class="choice"><input type="radio" name="credential_id" value="${escapeHtml(c.id)}"${c.id === selected ? ' checked' : ''}> <span>${escapeHtml(c.title)} <span class="muted">(${meta})</span></span></label>`;
        })
        .join('\n')
    : `<p class="muted">You have no ${provider} account connected yet.</p>`;
  const allow = usable.length ? `<button type="submit" name="decision" value="allow">Allow</button>\n` : '';
  const connectNew = view.canConnectOAuth
    ? `<form method="post" action="${action}">
${hidden}
<button type="submit" name="decision" value="connect_new" class="secondary">Connect a new ${provider} account</button>
</form>`
    : '';
  const addKey = view.canAddApiKey
    ? `<form method="post" action="${action}" autocomplete="off">
${hidden}
<label for="api_key">Or add an API key for ${provider} and allow</label>
<input id="api_key" name="api_key" type="password" autocomplete="off" required>
<label for="title">Name it (optional)</label>
<input id="title" name="title" type="text" maxlength="100">
<button type="submit" name="decision" value="add_api_key" class="secondary">Add key and allow</button>
</form>`
    : '';
  const more = connectNew || addKey ? `<hr>\n${[connectNew, addKey].filter(Boolean).join('\n')}` : '';
  return `${EXTRA_STYLE}
<h1>Connect ${provider} to ${app}</h1>
<p class="muted">Signed in as ${escapeHtml(view.userName)} &lt;${escapeHtml(view.userEmail)}&gt;</p>
${view.notice ? `<p class="notice" role="status">${escapeHtml(view.notice)}</p>\n` : ''}${view.error ? `<p class="error" role="alert">${escapeHtml(view.error)}</p>\n` : ''}${view.clientDescription ? `<p>${escapeHtml(view.clientDescription)}</p>\n` : ''}${scopes}
<form method="post" action="${action}">
${hidden}
<fieldset>
<legend>Your ${provider} accounts</legend>
${choices}
</fieldset>
${allow}<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>
${more}
<p class="muted">${app} can use the account you choose only for the above, until you revoke it (API: <code>DELETE /api/v1/grants/:id</code>).</p>`;
}

/**
 * The page that ends a connect: it says how it went and, when `origin` is set (the request's
 * redirect_origin, verified against the client's redirect URIs), its one script posts `message`
 * to the opener at exactly that origin and closes the window. Without `origin`, there is no
 * script at all. The script is allowed by a per-response CSP nonce; nothing else runs.
 */
export function sendConnectResult(ctx: Context, status: number, input: { title: string; text: string; message: ConnectResultMessage; origin: string | null }): void {
  const nonce = randomBytes(16).toString('base64');
  const script = input.origin
    ? `
<script nonce="${nonce}">
(function () {
  var message = ${scriptJson(input.message)};
  var origin = ${scriptJson(input.origin)};
  if (window.opener) {
    window.opener.postMessage(message, origin);
    window.close();
  }
})();
</script>`
    : '';
  const body = `<h1>${escapeHtml(input.title)}</h1>
<p${input.message.success ? '' : ' class="error" role="alert"'}>${escapeHtml(input.text)}</p>
<p class="muted">You can close this window.</p>${script}`;
  sendPage(ctx, status, input.title, body);
  if (input.origin) {
    ctx.set('Content-Security-Policy', `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`);
  }
}

/** JSON safe inside a <script> element (no `</script>`, no HTML comment openers, no line separators). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
