// The payment page (marketplace/payments/templates/payments/pay.html): the hold's countdown
// and paying through Stripe.js (Stripe's own, or the Stripe stand-in's in test mode; both
// answer {paymentIntent} or {error: {code}}). Errors are shown in the member's words from
// the page's #pay-messages, never Stripe's English message.
(function () {
  "use strict";
  var root = document.getElementById("payment");
  var words = JSON.parse(document.getElementById("pay-messages").textContent);

  // The 15-minute hold, counted down every second; at zero the form goes away.
  var hold = document.querySelector("[data-hold-until]");
  if (hold) {
    var until = Date.parse(hold.getAttribute("data-hold-until"));
    var shown = hold.querySelector(".countdown");
    var tick = function () {
      var left = Math.max(0, Math.floor((until - Date.now()) / 1000));
      var seconds = String(left % 60);
      shown.textContent = Math.floor(left / 60) + ":" + (seconds.length < 2 ? "0" + seconds : seconds);
      if (left > 0) return;
      window.clearInterval(timer);
      hold.hidden = true;
      document.querySelector("[data-testid=payment-hold-over]").hidden = false;
      document.querySelectorAll("[data-testid=pay-methods] button").forEach(function (b) { b.disabled = true; });
    };
    var timer = window.setInterval(tick, 1000);
    tick();
  }

  function said(error) {
    var code = (error && error.code) || "";
    if (code === "payment_intent_authentication_failure") return words.authentication;
    if (/declin|insufficient|expired_card|lost|stolen|do_not_honor/.test(code)) return words.declined;
    if (/number/.test(code)) return words.number;
    if (/expiry/.test(code)) return words.expiry;
    if (/cvc/.test(code)) return words.cvc;
    if (code === "payment_method_unavailable") return words.unavailable;
    if (code === "network_error" || (error && error.type === "api_connection_error")) return words.network;
    return words.other;
  }

  var stripe = window.Stripe(root.dataset.key);
  var secret = root.dataset.secret;
  var message = document.getElementById("pay-error");
  var buttons = document.querySelectorAll("[data-testid=pay-methods] button");
  var busy = function (on) { buttons.forEach(function (b) { b.disabled = on; b.setAttribute("aria-busy", on); }); };
  var done = function (result) {
    if (result && result.error) {
      message.textContent = said(result.error);
      message.hidden = false;
      busy(false);
      message.scrollIntoView({block: "center"});
      return;
    }
    window.location.assign(root.dataset.return);
  };

  var form = document.getElementById("pay-form");
  if (form) {
    var card = stripe.elements().create("card", {hidePostalCode: true});
    card.mount("#card-element");
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      event.stopPropagation();
      message.hidden = true;
      busy(true);
      done(await stripe.confirmCardPayment(secret, {payment_method: {card: card}}));
    });
  }
  document.querySelectorAll("[data-method]").forEach(function (button) {
    button.addEventListener("click", async function () {
      busy(true);
      if (button.dataset.method === "alipay") {
        done(await stripe.confirmAlipayPayment(secret, {return_url: root.dataset.return}));
      } else {
        done(await stripe.confirmWechatPayPayment(secret, {payment_method_options: {wechat_pay: {client: "web"}}}));
      }
    });
  });
})();
