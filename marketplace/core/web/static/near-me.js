// 离我最近 on the home page: the browser's position goes to /search as lat/lng with the chosen
// radius. Without it (permission refused, no fix, no geolocation at all) the page says why in
// words and moves to the district picker instead of failing silently. Without JavaScript the
// form still posts; the search page then says the same and offers the districts.
(function () {
  "use strict";
  var form = document.querySelector("[data-near-me]");
  if (!form) { return; }
  var note = form.querySelector("[data-testid=near-me-note]");

  function fallBack(reason) {
    note.textContent = form.getAttribute(reason === "denied" ? "data-denied" : "data-unavailable");
    note.hidden = false;
    var picker = document.getElementById("district");
    if (picker) { picker.focus(); }
  }

  form.addEventListener("submit", function (event) {
    if (form.lat.value && form.lng.value) { return; }
    event.preventDefault();
    if (!navigator.geolocation) { fallBack("unavailable"); return; }
    navigator.geolocation.getCurrentPosition(function (position) {
      form.lat.value = position.coords.latitude.toFixed(5);
      form.lng.value = position.coords.longitude.toFixed(5);
      form.submit();
    }, function (error) {
      fallBack(error && error.code === 1 ? "denied" : "unavailable");
    }, {timeout: 8000, maximumAge: 300000});
  });

  // The district list goes straight to its results when chosen.
  var picker = document.querySelector("[data-district-picker] select");
  if (picker) {
    picker.addEventListener("change", function () { if (picker.value) { picker.form.submit(); } });
  }
})();
