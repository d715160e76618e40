// A file input drawn by the page (a label styled as a button, the input visually hidden):
// the native control's words follow the browser's language, not the page's. This shows the
// chosen file's name beside the button; without JavaScript the button still chooses a file.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.id) return;
  const name = document.querySelector(`[data-file-name-for="${input.id}"]`);
  if (name) name.textContent = input.files && input.files.length ? input.files[0].name : name.dataset.empty;
});
