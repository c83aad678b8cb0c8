package ui

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/otlpd/otlpd/internal/config"
	"github.com/otlpd/otlpd/internal/tail"
)

// TestBrowserSignIn runs an otlpd whose query side needs a token: the page asks for it at the first refused
// API call, refuses a wrong one, shows the data after the right one, and asks again after signing out.
func TestBrowserSignIn(t *testing.T) {
	ctx := browser(t)
	f := newFixture(11, time.Now(), 0)
	otlp, base := startOtlpdWith(t, tail.Options{}, func(c *config.Config) {
		c.Auth.Tokens = []string{"browser-t0ken"}
		c.Auth.Ingest = false // the fixture is exported without a token; the UI address is what is tested
	})
	for _, id := range f.order {
		b, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(tracesPdata(f.traces[id]))
		if err != nil {
			t.Fatal(err)
		}
		export(t, otlp+"/v1/traces", b)
	}

	step(t, ctx, "asked for a token", chromedp.Navigate(base+"/#/search?range=1h&limit=20"),
		chromedp.WaitVisible(chromedp.CSS(`#signin-dialog[open] #signin-token`)))
	if n := count(t, ctx, ".result"); n != 0 {
		t.Errorf("%d results shown before signing in", n)
	}
	if !eval[bool](t, ctx, `document.getElementById('signout').hidden`) {
		t.Error("sign-out button shown before signing in")
	}
	step(t, ctx, "wrong token", chromedp.SendKeys(chromedp.CSS(`#signin-token`), "browser-t0ke"),
		chromedp.Click(chromedp.CSS(`#signin-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#signin-error`)))
	waitJS(t, ctx, `document.getElementById('signin-error').textContent.includes('not valid')`)
	step(t, ctx, "right token", js(`document.getElementById('signin-token').value = ''`),
		chromedp.SendKeys(chromedp.CSS(`#signin-token`), "browser-t0ken"),
		chromedp.Click(chromedp.CSS(`#signin-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".result")), chromedp.WaitVisible(chromedp.CSS("#signout")))
	if open := eval[bool](t, ctx, `document.getElementById('signin-dialog').open`); open {
		t.Error("sign-in dialog still open after a valid token")
	}
	if got := eval[string](t, ctx, `document.cookie`); got != "" {
		t.Errorf("page scripts can read cookies %q; the session cookie must be HttpOnly", got)
	}
	// Another view needs no second sign-in: the session cookie goes with every call.
	step(t, ctx, "service map", chromedp.Navigate(base+"/#/services?range=1h"), chromedp.WaitVisible(chromedp.CSS(`g.node`)))

	step(t, ctx, "sign out", chromedp.Click(chromedp.CSS("#signout")),
		chromedp.WaitVisible(chromedp.CSS(`#signin-dialog[open] #signin-token`)))
}
