/** Starts the portal: reads the deployment's settings, then renders the app. */
import { render } from 'preact';
import { Root } from './app.tsx';
import { Auth } from './auth.ts';
import { loadConfig } from './config.ts';
import './styles.css';

const root = document.getElementById('app');
if (!root) throw new Error('index.html lacks #app');

loadConfig().then(
  (config) => render(<Root config={config} auth={new Auth(config)} />, root),
  (err: unknown) => {
    const main = document.createElement('main');
    const h1 = document.createElement('h1');
    h1.textContent = 'The portal cannot start';
    const p = document.createElement('p');
    p.textContent = err instanceof Error ? err.message : String(err);
    main.append(h1, p);
    root.replaceChildren(main);
  },
);
