package app

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/twofactor/twofactor"
	"github.com/twofactor/twofactor/config"
)

// maxRootCertFile bounds the size of one webauthn.root_certs file.
const maxRootCertFile = 1 << 20

// WebAuthn maps the webauthn.* keys onto the core's WebAuthn configuration.
// It returns nil when webauthn.rp_name is empty: WebAuthn is off. The
// webauthn.root_certs files (paths relative to the working directory) are
// read and must hold one or more PEM certificates each. Errors are one line
// naming the key.
func WebAuthn(cfg config.Config) (*twofactor.WebAuthnConfig, error) {
	w := cfg.WebAuthn
	if w.RPName == "" {
		return nil, nil
	}
	if w.RPID != "" && net.ParseIP(w.RPID) != nil {
		return nil, fmt.Errorf("config: webauthn.rp_id: %q is an IP address; a relying party id must be a host name", w.RPID)
	}
	for _, o := range w.Origins {
		u, err := url.Parse(o)
		if err != nil {
			return nil, fmt.Errorf("config: webauthn.origins: %q is not an origin", o)
		}
		host := strings.ToLower(u.Hostname())
		if w.RPID != "" && host != w.RPID && !strings.HasSuffix(host, "."+w.RPID) {
			return nil, fmt.Errorf("config: webauthn.origins: %q is not on webauthn.rp_id %q or a subdomain of it", o, w.RPID)
		}
		if w.RPID == "" && net.ParseIP(host) != nil {
			return nil, fmt.Errorf("config: webauthn.origins: %q has an IP address, which cannot be a relying party id (set webauthn.rp_id)", o)
		}
	}
	wc := &twofactor.WebAuthnConfig{
		RPName: w.RPName, RPID: w.RPID, Origins: w.Origins, AuthenticatorAttachment: w.AuthenticatorAttachment,
		PreferredTransports: w.PreferredTransports, UserVerification: w.UserVerification, Attestation: w.Attestation,
	}
	for _, file := range w.RootCerts {
		certs, err := readCertificates(file)
		if err != nil {
			return nil, fmt.Errorf("config: webauthn.root_certs: %s: %w", file, err)
		}
		wc.RootCerts = append(wc.RootCerts, certs...)
	}
	return wc, nil
}

// readCertificates reads the PEM certificates of a file.
func readCertificates(file string) ([]*x509.Certificate, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, pathless(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRootCertFile+1))
	if err != nil {
		return nil, pathless(err)
	}
	if len(data) > maxRootCertFile {
		return nil, fmt.Errorf("larger than %d bytes", maxRootCertFile)
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM certificate in the file")
	}
	return certs, nil
}

// pathless drops the file name from a file error: the message names the
// file already.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
