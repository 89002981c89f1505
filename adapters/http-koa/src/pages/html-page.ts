import type { Context } from 'koa';

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f5f6f8;color:#1d2330}
main{max-width:24rem;margin:12vh auto;padding:2rem;background:#fff;border:1px solid #dde1e7;border-radius:10px}
h1{font-size:1.35rem;margin:0 0 1.25rem}
label{display:block;font-weight:600;margin:1rem 0 .3rem}
input[type=email],input[type=password]{width:100%;padding:.55rem .65rem;border:1px solid #b9c0cc;border-radius:6px;font:inherit}
input:focus{outline:2px solid #3b6fd8;outline-offset:1px}
button{margin-top:1.5rem;width:100%;padding:.6rem;border:0;border-radius:6px;background:#2d5bc4;color:#fff;font:inherit;font-weight:600;cursor:pointer}
button:hover{background:#244a9f}
.error{margin:0 0 1rem;padding:.6rem .75rem;border-radius:6px;background:#fdecec;color:#8a1c1c;border:1px solid #f3c2c2}
p.muted{color:#5a6373;font-size:.9rem}
button.secondary{margin-top:.6rem;background:#e8ebf0;color:#1d2330}
button.secondary:hover{background:#d5dae2}
ul.scopes{padding-left:1.2rem}
ul.scopes li{margin:.35rem 0}
code{font-size:.85rem;color:#5a6373}
`;

/** Sends a small server-rendered page with headers fit for pages that carry forms and secrets. */
export function sendPage(ctx: Context, status: number, title: string, bodyHtml: string): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Blockyard</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${bodyHtml}
</main>
</body>
</html>
`;
}
