package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/twofactor/twofactor"
)

// oauthClientJSON is one client in `oauth2 client list --json`.
type oauthClientJSON struct {
	ClientID  string `json:"client_id"`
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
}

// setupOAuth2ClientCreate: twofactor oauth2 client create NAME [--json].
func setupOAuth2ClientCreate(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, `print {"client_id": …, "client_secret": …}`)
	return func(ctx context.Context, e *env) error {
		c, sec, err := e.app.Service.CreateOAuthClient(ctx, e.args[0])
		var te *twofactor.Error
		if errors.As(err, &te) && te.Code == twofactor.CodeValidationFailed {
			return fmt.Errorf("invalid client name: %s", trimPeriod(te.Message))
		}
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(e.p.Stdout, struct {
				ClientID     string `json:"client_id"`
				ClientSecret string `json:"client_secret"`
			}{c.ID, sec})
		}
		fmt.Fprintf(e.p.Stdout, "client_id: %s\nclient_secret: %s\n", c.ID, sec)
		return nil
	}
}

// setupOAuth2ClientList: twofactor oauth2 client list [--json].
func setupOAuth2ClientList(fs *flag.FlagSet) runFunc {
	asJSON := fs.Bool("json", false, "print a JSON array of objects")
	return func(ctx context.Context, e *env) error {
		cs, err := e.app.Service.OAuthClients(ctx)
		if err != nil {
			return err
		}
		out := make([]oauthClientJSON, 0, len(cs))
		for _, c := range cs {
			out = append(out, oauthClientJSON{ClientID: c.ID, Name: c.Name, CreatedAt: timeText(c.CreatedAt)})
		}
		if *asJSON {
			return writeJSON(e.p.Stdout, out)
		}
		tw := tabwriter.NewWriter(e.p.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tCREATED")
		for _, c := range out {
			// A name is free text: keep each client on one line.
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.ClientID, strings.Join(strings.Fields(c.Name), " "), c.CreatedAt)
		}
		return tw.Flush()
	}
}

// setupOAuth2ClientDelete: twofactor oauth2 client delete ID.
func setupOAuth2ClientDelete(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, e *env) error {
		id := e.args[0]
		if err := e.app.Service.DeleteOAuthClient(ctx, id); err != nil {
			return forClient(id, err)
		}
		fmt.Fprintf(e.p.Stdout, "deleted oauth2 client %q\n", id)
		return nil
	}
}
