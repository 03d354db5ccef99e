// A process token's QR code, drawn by the server (`.../process-tokens/{name}/qr`, an SVG of the
// token's link). The route needs the bearer token, which an <img src> cannot send, so the SVG is
// fetched and shown as a data: URL (the backoffice's CSP allows data: images, not blob:).
import { call } from '../api.js';
import { el } from '../../../web/render.js';

/** An <img> that shows the QR code of token `name` once fetched; failures go to `line`. */
export function tokenQr(session, base, name, line, describe) {
  const img = el('img', { alt: `QR code of the link of token ${name}`, class: 'qr', width: 128, height: 128, 'data-qr': name });
  call('GET', `${base}/${encodeURIComponent(name)}/qr`, { raw: true })
    .then((svg) => {
      const bytes = new TextEncoder().encode(svg);
      let binary = '';
      for (const b of bytes) binary += String.fromCharCode(b);
      img.src = `data:image/svg+xml;base64,${btoa(binary)}`;
    })
    .catch((e) => {
      img.alt = `No QR code: ${describe(e, session, 'read process tokens (their QR codes)')}`;
      line.fail(e, session, 'read process tokens (their QR codes)');
    });
  return img;
}
