// Accounts in the studio: the sign-in / sign-up page (when the server requires accounts), the
// signed-in user's name and "Sign out" in the header, and the share dialog of a piece's owner
// (share with a person by email or by a link, as an editor or a viewer; revoke).
import { api, ApiError, type Role, type Share, type User } from "./api";
import { h } from "./dom";

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The sign-in page; a toggle turns it into the sign-up form. Calls ``done`` once signed in. */
export function signInPage(done: (user: User) => void): HTMLElement {
  let signingUp = false;
  const email = h("input", { id: "auth-email", type: "email", autocomplete: "username", required: true });
  const name = h("input", { id: "auth-name", autocomplete: "name", placeholder: "shown to the people you work with" });
  const password = h("input", { id: "auth-password", type: "password", autocomplete: "current-password", required: true });
  const status = h("p", { id: "auth-status", class: "status-line" });
  const submit = h("button", { id: "auth-submit", class: "primary", type: "submit" }, "Sign in");
  const nameRow = h("label", { hidden: true }, "Name", name);
  const toggle = h("button", { id: "auth-toggle", class: "link", type: "button" }, "New here? Make an account");
  const heading = h("h2", {}, "Sign in");
  toggle.addEventListener("click", () => {
    signingUp = !signingUp;
    nameRow.hidden = !signingUp;
    heading.textContent = submit.textContent = signingUp ? "Make an account" : "Sign in";
    toggle.textContent = signingUp ? "Have an account? Sign in" : "New here? Make an account";
    password.autocomplete = signingUp ? "new-password" : "current-password";
    status.textContent = "";
  });
  const form = h("form", { class: "auth-form" }, heading,
    h("label", {}, "Email", email), nameRow,
    h("label", {}, "Password", password, h("span", { class: "hint" }, "at least 8 characters")),
    h("div", { class: "auth-buttons" }, submit, toggle), status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    submit.disabled = true;
    status.classList.remove("error");
    status.textContent = signingUp ? "Making your account…" : "Signing in…";
    try {
      const answer = signingUp ? await api.signUp(email.value, password.value, name.value)
        : await api.signIn(email.value, password.value);
      done(answer.user);
    } catch (err) {
      status.textContent = message(err);
      status.classList.add("error");
    } finally {
      submit.disabled = false;
    }
  });
  return h("div", { class: "start" },
    h("header", { class: "bar" }, h("h1", {}, "Symphony"), h("span", { class: "facts" }, "compose, edit, hear and export music")),
    h("main", { class: "auth" }, form));
}

/** The user's name and a "Sign out" button, for a header (nothing in single-user mode). */
export function userBadge(user: User | null, signedOut: () => void): HTMLElement {
  if (!user?.accounts) return h("span", { id: "user" });
  return h("span", { id: "user", class: "user" }, h("span", { id: "user-name" }, user.name),
    h("button", { id: "sign-out", class: "link", onclick: async () => { await api.signOut(); signedOut(); } }, "Sign out"));
}

/** The owner's share dialog for a piece: who has it (revoke), and share with a person or a link. */
export function shareDialog(pieceId: string): HTMLDialogElement {
  const list = h("ul", { id: "share-list", class: "shares" });
  const role = h("select", { id: "share-role" },
    h("option", { value: "viewer" }, "can view"), h("option", { value: "editor" }, "can edit"));
  const email = h("input", { id: "share-email", type: "email", placeholder: "their email" });
  const status = h("p", { id: "share-status", class: "status-line" });
  const dialog = h("dialog", { id: "share-dialog", class: "share-dialog" });
  const say = (text: string, error = false) => { status.textContent = text; status.classList.toggle("error", error); };

  const refresh = async () => {
    const shares = await api.shares(pieceId);
    list.replaceChildren(...shares.map((s) => shareRow(s, async () => {
      await api.unshare(pieceId, s.id);
      say(s.email ? `${s.name} can no longer open this piece` : "The link no longer opens this piece");
      await refresh();
    })));
    if (!shares.length) list.append(h("li", { class: "hint" }, "Only you can open this piece."));
  };
  const share = async (body: { email?: string; link?: boolean }) => {
    try {
      const made = await api.share(pieceId, { ...body, role: role.value as Role });
      say(made.email ? `Shared with ${made.name}` : "Link made: send it to whoever should open the piece");
      email.value = "";
      await refresh();
    } catch (e) {
      say(e instanceof ApiError ? e.message : message(e), true);
    }
  };
  dialog.append(h("h2", {}, "Share this piece"),
    h("div", { class: "share-form" }, role,
      email, h("button", { id: "share-person", class: "primary", onclick: () => share({ email: email.value.trim() }) }, "Share"),
      h("button", { id: "share-link", onclick: () => share({ link: true }) }, "Make a link")),
    status, list,
    h("form", { method: "dialog" }, h("button", { id: "share-close" }, "Close")));
  dialog.addEventListener("close", () => dialog.remove());
  void refresh().catch((e) => say(message(e), true));
  return dialog;
}

function shareRow(s: Share, revoke: () => Promise<void>): HTMLElement {
  const who = s.email
    ? h("span", {}, `${s.name} `, h("span", { class: "hint" }, s.email))
    : h("input", { class: "share-url", readonly: true, value: new URL(s.url!, location.href).href,
      onclick: (e: Event) => (e.target as HTMLInputElement).select() });
  return h("li", { "data-share": s.id }, who, h("span", { class: "role" }, s.role === "editor" ? "can edit" : "can view"),
    h("button", { class: "link revoke", onclick: () => void revoke() }, "revoke"));
}
