// Operator console: "tick all" boxes of the work lists (templates/_lists.html).
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.dataset.checkAll) return;
  document.querySelectorAll(`input[name="ids"][form="${box.dataset.checkAll}"]`).forEach((row) => {
    row.checked = box.checked;
  });
});

// Offer pickers (templates/_offer_choice.html): a ticked search result moves to the picked
// offers, an unticked pick goes away; a chosen radio button (one offer) replaces the last one.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.hasAttribute("data-offer-pick")) return;
  const chosen = document.getElementById("offer-chosen");
  const item = box.closest("li");
  if (!chosen || !item) return;
  if (box.checked) {
    if (box.type === "radio") chosen.replaceChildren();
    else if (chosen.querySelector(`input[value="${box.value}"]`)) { item.remove(); return; }
    chosen.appendChild(item);
    chosen.hidden = false;
  } else if (item.parentElement === chosen) {
    item.remove();
    chosen.hidden = chosen.children.length === 0;
  }
});

// Search results are shown only when there are some.
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.target;
  if (target instanceof HTMLElement && target.id === "offer-results") target.hidden = !target.innerHTML.trim();
});
