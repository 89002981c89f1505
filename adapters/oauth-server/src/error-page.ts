/** Escapes text for HTML element content and attribute values. */
function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * The page a browser sees when an authorization request cannot go back to the app (unknown
 * client, redirect_uri not registered, ...): the OAuth error and its description, nothing more.
 */
export function errorPageHtml(out: { error?: string; error_description?: string }): string {
  const error = escapeHtml(out.error ?? 'server_error');
  const description = escapeHtml(out.error_description ?? 'something went wrong');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorization failed · Blockyard</title>
<style>
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f5f6f8;color:#1d2330}
main{max-width:28rem;margin:12vh auto;padding:2rem;background:#fff;border:1px solid #dde1e7;border-radius:10px}
h1{font-size:1.35rem;margin:0 0 1rem}
.error{padding:.6rem .75rem;border-radius:6px;background:#fdecec;color:#8a1c1c;border:1px solid #f3c2c2}
code{font-size:.9rem}
p.muted{color:#5a6373;font-size:.9rem}
</style>
</head>
<body>
<main>
<h1>This app's request cannot be completed</h1>
<p class="error" role="alert"><code>${error}</code>: ${description}</p>
<p class="muted">Go back to the app and try again. If it keeps happening, tell the app's developer.</p>
</main>
</body>
</html>
`;
}
