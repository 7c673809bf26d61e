import { useEffect, useRef, useState } from 'preact/hooks';

export function SignIn({ message, onSignIn }: { message: string | null; onSignIn: (token: string) => void }) {
  const [value, setValue] = useState('');
  const [missing, setMissing] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <main class="signin">
      <h1>Factures et avoirs — connexion</h1>
      {message && (
        <p role="alert" class="alert">
          {message}
        </p>
      )}
      <p>
        Ouvrez le lien fourni (<code>/#token=…</code>), par exemple celui qu'affiche <code>npm run demo</code>, ou collez votre jeton
        d'accès ci-dessous.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!value.trim()) {
            setMissing(true);
            ref.current?.focus();
            return;
          }
          onSignIn(value);
        }}
      >
        <label for="token">Jeton d'accès (JWT)</label>
        <textarea
          id="token"
          ref={ref}
          rows={4}
          value={value}
          aria-invalid={missing}
          aria-describedby={missing ? 'token-missing' : undefined}
          onInput={(e) => { setValue(e.currentTarget.value); setMissing(false); }}
        />
        {missing && <p id="token-missing" class="field-error">Collez un jeton pour vous connecter.</p>}
        <button type="submit">Se connecter</button>
      </form>
    </main>
  );
}
