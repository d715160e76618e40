// The counter's camera scanner (/provider/counter). Frames from the rear camera are drawn
// on a canvas and read by jsQR (vendored from the npm registry, see
// marketplace/runtime/npm_assets.py), which needs nothing from the browser but a canvas:
// it reads codes in iPhone Safari and WeChat's browser as well as in Android Chrome.
// A code that is read is put in the code field and checked, as if it had been typed;
// typing always works without this file.
(function () {
  "use strict";

  var box = document.getElementById("counter-scan");
  var form = document.getElementById("counter-form");
  if (!box || !form) return;
  var button = document.getElementById("scan");
  var stopButton = document.getElementById("scan-stop");
  var finder = document.getElementById("viewfinder");
  var video = document.getElementById("scanner");
  var state = document.getElementById("scan-state");
  var field = document.getElementById("code");
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var stream = null;
  var timer = null;
  var EVERY_MS = 150;  // about 7 looks a second: quick, and a phone stays cool
  var MAX_SIDE = 640;  // frames are scaled down to this before decoding

  function say(key) { state.textContent = key ? box.getAttribute(key) : ""; }

  box.hidden = false;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.isSecureContext) {
    button.hidden = true;
    say("data-no-camera");
    return;
  }

  function stop() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); stream = null; }
    video.srcObject = null;
    finder.hidden = true;
    button.hidden = false;
  }

  function found(text) {
    stop();
    field.value = text.trim();
    say("");
    form.submit();
  }

  function look() {
    timer = null;
    if (!stream) return;
    if (video.readyState >= 2 && video.videoWidth && typeof window.jsQR === "function") {
      var scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
      var width = Math.round(video.videoWidth * scale), height = Math.round(video.videoHeight * scale);
      canvas.width = width;
      canvas.height = height;
      context.drawImage(video, 0, 0, width, height);
      var image = context.getImageData(0, 0, width, height);
      var code = window.jsQR(image.data, width, height, { inversionAttempts: "dontInvert" });
      if (code && code.data) { found(code.data); return; }
    }
    timer = setTimeout(look, EVERY_MS);
  }

  button.addEventListener("click", function () {
    button.hidden = true;
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        finder.hidden = false;
        say("data-looking");
        var playing = video.play();
        if (playing && playing.catch) playing.catch(function () {});
        look();
      })
      .catch(function (error) {
        stop();
        say(error && error.name === "NotAllowedError" ? "data-denied" : "data-no-camera");
      });
  });
  stopButton.addEventListener("click", function () { stop(); say(""); });
  // Leaving the page (or the app) releases the camera.
  window.addEventListener("pagehide", stop);
})();
