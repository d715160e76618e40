// Operator console: "tick all" boxes of the work lists (templates/_lists.html).
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.dataset.checkAll) return;
  document.querySelectorAll(`input[name="ids"][form="${box.dataset.checkAll}"]`).forEach((row) => {
    row.checked = box.checked;
  });
});
