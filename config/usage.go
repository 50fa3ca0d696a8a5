package config

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// shownDefault is how a default appears in help and docs.
func shownDefault(k Key) string {
	if k.Default == "" {
		return "-"
	}
	return k.Default
}

// Usage prints every key with its environment variable, default and
// description, in aligned columns, for `twofactor serve --help`.
func Usage(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tENVIRONMENT\tDEFAULT\tDESCRIPTION")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.Name, k.Env(), shownDefault(k), k.Description)
	}
	return tw.Flush()
}

// Markdown renders the configuration reference as a Markdown table: key,
// environment variable, default, description and the seed setting it
// replaces.
func Markdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| key | environment | default | description | seed setting |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, k := range keys {
		def := "—"
		if k.Default != "" {
			def = code(k.Default)
		}
		seed := "—"
		if k.Seed != "" {
			seed = cell(k.Seed)
		}
		desc := cell(k.Description)
		if k.List {
			desc += " (list)"
		}
		if k.Secret {
			desc += " (secret)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", code(k.Name), code(k.Env()), def, desc, seed)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell escapes text for a Markdown table cell.
func cell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}

// code writes s as inline code in a Markdown table cell.
func code(s string) string {
	return "`" + cell(s) + "`"
}
