// Recompute a fair draw in the browser: the same rule as marketplace/draws/fairness.py.
// score = ln(u) / weight with u = (first 6 bytes of HMAC-SHA256(seed, ticket) + 0.5) / 2^48;
// highest score first, ties by the HMAC in hex, then the ticket.
(function () {
  "use strict";
  var box = document.getElementById("draw-verify");
  if (!box) return;
  var button = box.querySelector("button");
  var out = box.querySelector(".draw-verify-result");
  var encoder = new TextEncoder();

  function hex(bytes) {
    return Array.prototype.map.call(new Uint8Array(bytes), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function say(text, ok) {
    out.textContent = text;
    out.className = "draw-verify-result " + (ok ? "is-same" : "is-different");
    out.setAttribute("data-outcome", ok ? "same" : "different");
  }

  async function recompute(result) {
    var subtle = window.crypto.subtle;
    var digest = hex(await subtle.digest("SHA-256", encoder.encode(result.seed)));
    if (digest !== result.seed_hash) return { seed: false };
    var key = await subtle.importKey("raw", encoder.encode(result.seed), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    var scored = await Promise.all(result.entries.map(async function (entry) {
      var mac = new Uint8Array(await subtle.sign("HMAC", key, encoder.encode(entry[0])));
      var n = 0;
      for (var i = 0; i < 6; i++) n = n * 256 + mac[i];
      var u = (n + 0.5) / 281474976710656;
      return { ticket: entry[0], score: Math.log(u) / entry[1], mac: hex(mac) };
    }));
    scored.sort(function (a, b) {
      if (a.score !== b.score) return b.score - a.score;
      if (a.mac !== b.mac) return a.mac < b.mac ? -1 : 1;
      return a.ticket < b.ticket ? -1 : a.ticket > b.ticket ? 1 : 0;
    });
    for (var k = 0; k < scored.length; k++) {
      if (String(result.order[k]) !== scored[k].ticket) return { seed: true, differs: k + 1 };
    }
    if (result.order.length !== scored.length) return { seed: true, differs: scored.length + 1 };
    return { seed: true, count: scored.length };
  }

  button.addEventListener("click", async function () {
    button.disabled = true;
    say(box.dataset.textWorking, true);
    try {
      var response = await fetch(box.dataset.result, { headers: { Accept: "application/json" } });
      var outcome = await recompute(await response.json());
      if (!outcome.seed) say(box.dataset.textSeed, false);
      else if (outcome.differs) say(box.dataset.textDiffers.replace("{n}", outcome.differs), false);
      else say(box.dataset.textSame.replace("{n}", outcome.count.toLocaleString()), true);
    } catch (error) {
      say(box.dataset.textFailed, false);
    } finally {
      button.disabled = false;
    }
  });
})();
