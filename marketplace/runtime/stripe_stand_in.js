/*
 * A stand-in for the part of Stripe.js the payment page uses, served by the Stripe
 * stand-in (marketplace/runtime/localstripe_server.py) at /js.stripe.com/v3/. It does in
 * the browser what Stripe.js does, against the stand-in's API:
 *
 *   const stripe = Stripe(publishableKey);
 *   const card = stripe.elements().create("card"); card.mount("#card-element");
 *   const result = await stripe.confirmCardPayment(clientSecret, {payment_method: {card}});
 *
 * The card element takes over the test card form the page draws inside the mount point
 * (inputs marked data-card-field = cardnumber, exp-date, cvc: never named, so nothing of
 * the card is ever submitted to the page's own server); confirmCardPayment creates the PaymentMethod
 * with the publishable key, confirms the PaymentIntent with its client secret and, when
 * the card asks for 3-D Secure, shows the page's <dialog data-stand-in-3ds> (the bank's
 * step) before completing or failing the authentication. Results have Stripe.js's shape:
 * {paymentIntent} or {error: {type, code, message}}. Test mode only: production loads
 * https://js.stripe.com/v3/.
 */
(function () {
  "use strict";
  var BASE = document.currentScript.src.replace(/\/js\.stripe\.com\/v3\/?$/, "");

  function failure(code, type) {
    return {error: {type: type || "card_error", code: code, message: code}};
  }

  async function call(method, path, body) {
    try {
      // JSON sent as text/plain, a "simple" cross-origin request: no CORS preflight, which
      // localstripe does not answer. It reads the body as JSON whatever its type.
      var response = await fetch(BASE + path, {method: method, body: body ? JSON.stringify(body) : undefined});
      var data = await response.json().catch(function () { return {}; });
      if (!response.ok || data.error) {
        var error = data.error || {};
        return {error: {type: error.type || "api_error", code: error.code || "processing_error",
                        message: error.message || ""}};
      }
      return {data: data};
    } catch (err) {
      return failure("network_error", "api_connection_error");
    }
  }

  function CardElement() { this.root = null; }
  CardElement.prototype.mount = function (target) {
    this.root = typeof target === "string" ? document.querySelector(target) : target;
  };
  CardElement.prototype.on = function () {};
  CardElement.prototype.field = function (name) {
    var input = this.root && this.root.querySelector("[data-card-field='" + name + "']");
    return input ? input.value : "";
  };
  // The card as Stripe's API takes it, or a validation error as Stripe.js reports it.
  CardElement.prototype.card = function () {
    var number = this.field("cardnumber").replace(/[\s-]/g, "");
    if (!/^[0-9]{16}$/.test(number)) return failure("invalid_number", "validation_error");
    var expiry = this.field("exp-date").replace(/\s/g, "").match(/^([0-9]{1,2})\/?([0-9]{2}|[0-9]{4})$/);
    if (!expiry) return failure("invalid_expiry", "validation_error");
    var month = parseInt(expiry[1], 10), year = parseInt(expiry[2], 10);
    if (year < 100) year += 2000;
    var now = new Date();
    if (month < 1 || month > 12 || year < now.getFullYear() ||
        (year === now.getFullYear() && month < now.getMonth() + 1)) {
      return failure("invalid_expiry", "validation_error");
    }
    var cvc = this.field("cvc").trim();
    if (!/^[0-9]{3}$/.test(cvc)) return failure("invalid_cvc", "validation_error");
    return {card: {number: number, exp_month: month, exp_year: year, cvc: cvc}};
  };

  // The bank's 3-D Secure step: the page's dialog, answered "ok" or not.
  function authenticate() {
    var dialog = document.querySelector("dialog[data-stand-in-3ds]");
    if (!dialog || typeof dialog.showModal !== "function") {
      return Promise.resolve(window.confirm("3-D Secure"));
    }
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function () { resolve(dialog.returnValue === "ok"); }, {once: true});
      dialog.showModal();
    });
  }

  function intentId(secret) {
    var found = /^(pi_[A-Za-z0-9]+)_secret_/.exec(secret || "");
    return found ? found[1] : null;
  }

  function outcome(intent) {
    if (intent.status === "succeeded" || intent.status === "processing") return {paymentIntent: intent};
    var error = intent.last_payment_error || {};
    return {error: {type: "card_error", code: error.code || "payment_failed", message: error.message || "",
                    payment_intent: intent}};
  }

  window.Stripe = function (key) {
    return {
      elements: function () {
        return {create: function () { return new CardElement(); }};
      },
      confirmCardPayment: async function (secret, data) {
        var id = intentId(secret);
        if (!id) return failure("invalid_client_secret", "invalid_request_error");
        var element = data && data.payment_method && data.payment_method.card;
        var card = element && element.card ? element.card() : failure("invalid_number", "validation_error");
        if (card.error) return card;
        var method = await call("POST", "/v1/payment_methods", {key: key, type: "card", card: card.card});
        if (method.error) return method;
        var confirmed = await call("POST", "/v1/payment_intents/" + id + "/confirm",
                                   {key: key, client_secret: secret, payment_method: method.data.id});
        if (confirmed.error) return confirmed;
        var intent = confirmed.data;
        if (intent.status === "requires_action") {
          var passed = await authenticate();
          var after = await call("POST", "/v1/payment_intents/" + id + "/_authenticate?success=" + passed,
                                 {key: key, client_secret: secret});
          if (after.error) return after;
          intent = after.data;
          if (!passed || intent.status === "requires_payment_method") {
            return failure("payment_intent_authentication_failure");
          }
        }
        return outcome(intent);
      },
      retrievePaymentIntent: async function (secret) {
        var id = intentId(secret);
        var found = await call("GET", "/v1/payment_intents/" + id + "?client_secret=" +
                               encodeURIComponent(secret) + "&key=" + encodeURIComponent(key));
        return found.error ? found : {paymentIntent: found.data};
      },
      // Not offered by the stand-in: the page says so in the member's words.
      confirmAlipayPayment: async function () { return failure("payment_method_unavailable"); },
      confirmWechatPayPayment: async function () { return failure("payment_method_unavailable"); },
    };
  };
})();
