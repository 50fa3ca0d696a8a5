/* twofactor pages: security keys and passkeys (WebAuthn).
 *
 * The only script of the pages, loaded where a ceremony runs. An element
 * with data-webauthn="create" or "get" carries the options the server
 * began the ceremony with (data-options: JSON, binary members in
 * base64url). A form with it runs the ceremony when submitted; a button
 * with it runs the ceremony for its form when clicked. The credential the
 * browser returns goes, as JSON with binary members in base64url, into
 * the form's hidden field "credential", and the form is submitted. When
 * the browser refuses, the user cancels or no key answers, the form's
 * [data-webauthn-error] element says so (the texts come translated from
 * this script element's data-msg-* attributes) and nothing is submitted.
 * Everything else about the pages works without JavaScript.
 */
(function () {
  "use strict";

  // The texts are the script element's data-msg-* attributes
  // (data-msg-failed is dataset.msgFailed).
  var texts = (document.currentScript && document.currentScript.dataset) || {};

  function text(name) {
    return texts["msg" + name.charAt(0).toUpperCase() + name.slice(1)] || texts.msgFailed || "";
  }

  function fromBase64url(s) {
    var b64 = String(s).replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function toBase64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      var c = Object.assign({}, d);
      c.id = fromBase64url(d.id);
      return c;
    });
  }

  var PKC = window.PublicKeyCredential;

  // creationOptions and requestOptions turn the JSON options into what
  // navigator.credentials wants: the browser's own parser when it has
  // one, else the binary members decoded here.
  function creationOptions(json) {
    if (PKC && typeof PKC.parseCreationOptionsFromJSON === "function") {
      return PKC.parseCreationOptionsFromJSON(json);
    }
    var o = Object.assign({}, json);
    o.challenge = fromBase64url(json.challenge);
    o.user = Object.assign({}, json.user, { id: fromBase64url(json.user.id) });
    o.excludeCredentials = descriptors(json.excludeCredentials);
    return o;
  }

  function requestOptions(json) {
    if (PKC && typeof PKC.parseRequestOptionsFromJSON === "function") {
      return PKC.parseRequestOptionsFromJSON(json);
    }
    var o = Object.assign({}, json);
    o.challenge = fromBase64url(json.challenge);
    o.allowCredentials = descriptors(json.allowCredentials);
    return o;
  }

  // credentialJSON is the credential as the server reads it: the
  // browser's toJSON() when it has one, else encoded here.
  function credentialJSON(cred) {
    if (typeof cred.toJSON === "function") {
      try {
        return cred.toJSON();
      } catch (e) {
        // encoded below
      }
    }
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toBase64url(cred.rawId),
      type: cred.type,
      clientExtensionResults: typeof cred.getClientExtensionResults === "function" ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64url(r.clientDataJSON) }
    };
    if (cred.authenticatorAttachment) {
      out.authenticatorAttachment = cred.authenticatorAttachment;
    }
    if (r.attestationObject) {
      out.response.attestationObject = toBase64url(r.attestationObject);
      if (typeof r.getTransports === "function") {
        out.response.transports = r.getTransports();
      }
    }
    if (r.authenticatorData) {
      out.response.authenticatorData = toBase64url(r.authenticatorData);
      out.response.signature = toBase64url(r.signature);
      if (r.userHandle) {
        out.response.userHandle = toBase64url(r.userHandle);
      }
    }
    return out;
  }

  // message says why a ceremony failed, from the DOMException's name.
  function message(err, kind) {
    switch (err && err.name) {
      case "NotAllowedError":
      case "AbortError":
        return text("notallowed");
      case "InvalidStateError":
        return kind === "create" ? text("excluded") : text("failed");
      case "SecurityError":
        return text("security");
      case "NotSupportedError":
        return text("unsupported");
    }
    return text("failed");
  }

  function show(form, msg) {
    var box = form.querySelector("[data-webauthn-error]");
    if (box) {
      box.textContent = msg;
      box.hidden = !msg;
    }
  }

  var busy = false;

  // run runs the ceremony of el (kind "create" or "get") and submits form.
  function run(el, form, kind, buttons) {
    if (busy) {
      return;
    }
    var field = form.querySelector('input[name="credential"]');
    if (!field) {
      return;
    }
    if (!PKC || !navigator.credentials) {
      show(form, text("unsupported"));
      return;
    }
    var options;
    try {
      var json = JSON.parse(el.getAttribute("data-options")).publicKey;
      options = kind === "create" ? { publicKey: creationOptions(json) } : { publicKey: requestOptions(json) };
    } catch (e) {
      show(form, text("failed"));
      return;
    }
    busy = true;
    buttons.forEach(function (b) { b.disabled = true; });
    show(form, "");
    var status = form.querySelector("[data-webauthn-error]");
    if (status && texts.msgWorking) {
      status.textContent = texts.msgWorking;
      status.hidden = false;
      status.classList.add("working");
    }
    var call = kind === "create" ? navigator.credentials.create(options) : navigator.credentials.get(options);
    Promise.resolve(call).then(function (cred) {
      if (!cred) {
        throw new DOMException("no credential", "NotAllowedError");
      }
      field.value = JSON.stringify(credentialJSON(cred));
      if (status) {
        status.classList.remove("working");
      }
      form.submit();
    }).catch(function (err) {
      busy = false;
      buttons.forEach(function (b) { b.disabled = false; });
      if (status) {
        status.classList.remove("working");
      }
      show(form, message(err, kind));
    });
  }

  function setUp(el) {
    var kind = el.getAttribute("data-webauthn");
    if (kind !== "create" && kind !== "get") {
      return;
    }
    if (el.tagName === "FORM") {
      var buttons = Array.prototype.slice.call(el.querySelectorAll('button[type="submit"], button:not([type])'));
      el.addEventListener("submit", function (ev) {
        var field = el.querySelector('input[name="credential"]');
        if (field && field.value) {
          return; // the ceremony ran: this is its submission
        }
        ev.preventDefault();
        run(el, el, kind, buttons);
      });
      return;
    }
    el.addEventListener("click", function (ev) {
      ev.preventDefault();
      var form = el.form;
      if (!form) {
        return;
      }
      // The form's other fields first (a box to tick), as a submit would;
      // the code field is not needed when the key answers.
      var code = form.querySelector('input[name="token"]');
      var required = code && code.required;
      if (code) {
        code.required = false;
      }
      var valid = form.reportValidity();
      if (code) {
        code.required = required;
      }
      if (valid) {
        if (code) {
          code.value = "";
        }
        run(el, form, kind, [el]);
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-webauthn]"), setUp);
})();
