// Sign-in for an otlpd whose query APIs need a bearer token. The token is sent once, to /api/otlpd/session,
// which answers with an HttpOnly session cookie: page scripts never keep or see the token afterwards.
import { APIError } from './api.js';

const SESSION = '/api/otlpd/session';
let pending = null;

// requireSignIn shows the sign-in dialog (once, however many calls were refused) and resolves when a valid
// token has been accepted; it rejects when the user dismisses the dialog.
export function requireSignIn() {
  if (pending) return pending;
  const dlg = document.getElementById('signin-dialog');
  const form = document.getElementById('signin-form');
  const input = document.getElementById('signin-token');
  const msg = document.getElementById('signin-error');
  pending = new Promise((resolve, reject) => {
    const done = (ok) => {
      form.removeEventListener('submit', onSubmit);
      dlg.removeEventListener('cancel', onCancel);
      input.value = '';
      pending = null;
      if (dlg.open) dlg.close();
      if (ok) { showSignOut(true); resolve(); } else reject(new APIError('this otlpd needs a token: sign in to see its data'));
    };
    const onCancel = () => done(false);
    const onSubmit = async (e) => {
      e.preventDefault();
      msg.textContent = '';
      let res;
      try {
        res = await fetch(SESSION, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: input.value.trim() }) });
      } catch (err) {
        msg.textContent = `cannot reach otlpd: ${err.message}`;
        return;
      }
      if (res.ok) { done(true); return; }
      msg.textContent = res.status === 401 ? 'That token is not valid here.' : `sign-in failed (${res.status})`;
      input.select();
    };
    form.addEventListener('submit', onSubmit);
    dlg.addEventListener('cancel', onCancel);
    msg.textContent = '';
    dlg.showModal();
    input.focus();
  });
  return pending;
}

function showSignOut(on) { document.getElementById('signout').hidden = !on; }

// initSession shows the sign-out button when this browser holds a session.
export async function initSession() {
  document.getElementById('signout').addEventListener('click', async () => {
    try { await fetch(SESSION, { method: 'DELETE' }); } finally { location.reload(); }
  });
  try {
    const res = await fetch(SESSION, { headers: { Accept: 'application/json' } });
    if (!res.ok) return; // an otlpd without sign-in
    const s = await res.json();
    showSignOut(!!(s.required && s.signedIn));
  } catch { /* offline: nothing to show */ }
}
