import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type LiveStatus, startLive, stopLive, useLive } from './live.js';
import { href, interceptLinks, useRoute, type Route } from './router.js';
import { claimsOf, currentToken, isExpired, onRefused, signIn, signOut } from './session.js';
import { AgreementView } from './views/agreement.js';
import { CompareView } from './views/compare.js';
import { EvaluatorsView } from './views/evaluators.js';
import { LabelView } from './views/label.js';
import { OverviewView } from './views/overview.js';
import { RunView } from './views/run.js';

const NAV = [
  { view: '', text: 'Overview' },
  { view: 'compare', text: 'Compare' },
  { view: 'agreement', text: 'Agreement' },
  { view: 'evaluators', text: 'Evaluators' },
];

const LIVE_TEXT: Record<LiveStatus, string> = {
  connecting: 'Connecting to live updates…',
  live: 'Live: new evaluations appear as they arrive',
  reconnecting: 'Live updates interrupted; reconnecting…',
  'signed-out': 'Live updates stopped: sign in again',
};

function SignIn({ message, onSignIn }: { message?: string; onSignIn: () => void }) {
  const [token, setToken] = useState('');
  return (
    <main id="main" class="sign-in">
      <h1>Sign in to the Assay dashboard</h1>
      {message && (
        <p class="problem" role="alert">
          {message}
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) {
            signIn(token);
            onSignIn();
          }
        }}
      >
        <label for="token">Bearer token</label>
        <textarea
          id="token"
          rows={4}
          autocomplete="off"
          spellcheck={false}
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
        <p class="hint">
          Paste a token of your account (on a development server, <code>npm run token</code> prints
          one). It is kept in this tab only and sent to Assay alone.
        </p>
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

function View({ route }: { route: Route }) {
  switch (route.view) {
    case '':
      return <OverviewView route={route} />;
    case 'label':
      return <LabelView route={route} />;
    case 'compare':
      return <CompareView route={route} />;
    case 'agreement':
      return <AgreementView route={route} />;
    case 'run':
      return <RunView route={route} />;
    case 'evaluators':
      return <EvaluatorsView route={route} />;
    default:
      return (
        <p class="problem" role="alert">
          There is no such page. <a href={href('')}>Go to the overview</a>.
        </p>
      );
  }
}

function Dashboard({ onSignOut }: { onSignOut: () => void }) {
  const route = useRoute();
  const live = useLive();
  const claims = claimsOf(currentToken() ?? '');
  useEffect(() => {
    startLive();
    return stopLive;
  }, []);
  return (
    <>
      <a class="skip" href="#main">
        Skip to the content
      </a>
      <header>
        <nav aria-label="Views">
          <a class="brand" href={href('')}>
            Assay
          </a>
          {NAV.map((n) => (
            <a
              key={n.view}
              href={href(n.view)}
              aria-current={route.view === n.view ? 'page' : undefined}
            >
              {n.text}
            </a>
          ))}
        </nav>
        <div class="who">
          <span class={`live ${live.status}`} role="status" data-live={live.status}>
            {LIVE_TEXT[live.status]}
          </span>
          {claims?.sub && (
            <span>
              {claims.sub}
              {claims.account_id ? ` @ ${claims.account_id}` : ''}
            </span>
          )}
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <View route={route} />
      </main>
    </>
  );
}

function App() {
  const token = currentToken();
  const [message, setMessage] = useState<string | undefined>(
    token && isExpired(token)
      ? 'Your token has expired. Sign in again with a current one.'
      : undefined,
  );
  const [signedIn, setSignedIn] = useState(Boolean(token) && !message);
  useEffect(() => {
    if (message) signOut();
    return onRefused((m) => {
      stopLive();
      setMessage(m);
      setSignedIn(false);
    });
  }, []);
  if (!signedIn)
    return (
      <SignIn
        message={message}
        onSignIn={() => {
          setMessage(undefined);
          setSignedIn(true);
        }}
      />
    );
  return (
    <Dashboard
      onSignOut={() => {
        signOut();
        stopLive();
        setMessage('You are signed out.');
        setSignedIn(false);
      }}
    />
  );
}

const root = document.getElementById('app')!;
root.replaceChildren();
interceptLinks(root);
render(<App />, root);
