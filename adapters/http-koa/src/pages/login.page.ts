import { escapeHtml } from './html-page.js';

/** The login form: email, password, the CSRF token and where to go next, all as plain HTML. */
export function loginPageHtml(input: { csrfToken: string; next: string; email?: string; error?: string; context?: string }): string {
  const error = input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>\n` : '';
  const context = input.context ? `<p class="muted">${escapeHtml(input.context)}</p>\n` : '';
  return `<h1>Sign in to Blockyard</h1>
${context}${error}<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="${escapeHtml(input.csrfToken)}">
<input type="hidden" name="next" value="${escapeHtml(input.next)}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${escapeHtml(input.email ?? '')}"${input.email ? '' : ' autofocus'}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${input.email ? ' autofocus' : ''}>
<button type="submit">Sign in</button>
</form>`;
}

/** The signed-in page: who you are, and a sign-out form carrying the session's CSRF token. */
export function accountPageHtml(input: { name: string; email: string; csrfToken: string }): string {
  return `<h1>Signed in</h1>
<p>${escapeHtml(input.name)} <span class="muted">&lt;${escapeHtml(input.email)}&gt;</span></p>
<form method="post" action="/logout">
<input type="hidden" name="csrf_token" value="${escapeHtml(input.csrfToken)}">
<button type="submit">Sign out</button>
</form>`;
}
