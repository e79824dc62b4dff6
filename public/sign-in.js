// The sign-in screen: a name is all it takes to get an account and a wallet.
import { api } from './api.js';
import { h, mount } from './dom.js';
import { notify, reportError } from './messages.js';
import { rerender } from './nav.js';
import { signIn } from './session.js';
import { refreshBalance } from './wallet.js';

export function signInView(view) {
  const input = h('input', {
    id: 'user-name', name: 'userName', type: 'text', required: true, maxlength: '64', autocomplete: 'nickname',
    placeholder: 'e.g. Alex',
  });
  const button = h('button', { class: 'btn primary', type: 'submit' }, 'Continue');
  const form = h(
    'form',
    {
      class: 'stack',
      onSubmit: async (event) => {
        event.preventDefault();
        const userName = input.value.trim();
        if (!userName) {
          notify('Please enter a name.');
          return;
        }
        button.disabled = true;
        button.textContent = 'Creating your account…';
        try {
          signIn(await api.createUser(userName));
          await refreshBalance();
          rerender();
        } catch (error) {
          reportError(error);
          button.disabled = false;
          button.textContent = 'Continue';
        }
      },
    },
    h('label', { for: 'user-name' }, 'Your name'),
    input,
    button,
  );
  mount(
    view,
    h(
      'section',
      { class: 'card narrow welcome' },
      h('h1', {}, 'Welcome'),
      h('p', { class: 'lead' }, 'Pick a name to get started. You get an account and a wallet on this device.'),
      form,
    ),
  );
  input.focus();
}
