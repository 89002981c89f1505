import type { PendingAuthorizationView } from '../http-deps.js';
import { escapeHtml } from './html-page.js';

/**
 * The consent page: which app asks, for what (each scope in plain words), who is signed in,
 * and an Allow / Deny form carrying the session's CSRF token. Plain HTML, no script.
 */
export function consentPageHtml(input: { pending: PendingAuthorizationView; userName: string; userEmail: string; csrfToken: string }): string {
  const { pending } = input;
  const app = escapeHtml(pending.clientName);
  const scopes = pending.scopes.length
    ? `<p><strong>${app}</strong> will be able to:</p>
<ul class="scopes">
${pending.scopes.map((s) => `<li>${escapeHtml(s.description)} <code>${escapeHtml(s.name)}</code></li>`).join('\n')}
</ul>`
    : `<p><strong>${app}</strong> asks for no permissions beyond knowing that you approved it.</p>`;
  let destination = pending.redirectUri;
  try {
    destination = new URL(pending.redirectUri).host;
  } catch {
    /* shown as is */
  }
  return `<h1>Allow ${app} to use your Blockyard account?</h1>
<p class="muted">Signed in as ${escapeHtml(input.userName)} &lt;${escapeHtml(input.userEmail)}&gt;</p>
${pending.clientDescription ? `<p>${escapeHtml(pending.clientDescription)}</p>\n` : ''}${scopes}
<p class="muted">Allowing sends you back to <code>${escapeHtml(destination)}</code>. You can revoke the app's access later.</p>
<form method="post" action="/oauth/interaction/${encodeURIComponent(pending.uid)}/confirm">
<input type="hidden" name="csrf_token" value="${escapeHtml(input.csrfToken)}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`;
}

/** The page for an authorization request that is gone (expired, already answered, another browser's). */
export function expiredAuthorizationHtml(message: string): string {
  return `<h1>This request is no longer valid</h1>
<p class="error" role="alert">${escapeHtml(message)}</p>
<p class="muted">Go back to the app and start again.</p>`;
}
