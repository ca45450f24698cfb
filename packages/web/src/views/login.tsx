/**
 * Sign-in for a hub that requires authentication (bound beyond loopback, or with an admin token): the
 * admin token or an API key that may read is exchanged for a sign-in session on the hub (an HttpOnly cookie holding
 * a random id); the token itself is not kept by the page or the cookie.
 */
import { useState } from "preact/hooks";
import { ApiError, login } from "../api/client.ts";

export function LoginView(props: { onSignedIn: () => void }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(token.trim());
      setToken("");
      props.onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError ? (err.unauthorized ? "That token was not accepted: it is wrong or has been revoked." : err.message) : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login" id="main">
      <form class="panel login-form" onSubmit={submit} data-testid="login">
        <h1>Sign in to Clawtower</h1>
        <p class="muted">
          This hub requires a token. Paste the admin token (<code>CLAWTOWER_ADMIN_TOKEN</code>) or an API key made with <code>clawtower keys create --scope read</code>.
        </p>
        <label class="field field-block">
          <span>Admin token or API key</span>
          <input type="password" name="token" autocomplete="current-password" required value={token} onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)} />
        </label>
        {error ? (
          <p class="bad" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="btn btn-primary" disabled={busy || token.trim() === ""}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
