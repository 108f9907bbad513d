package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/filedc/filedc/internal/cluster"
	"github.com/filedc/filedc/internal/serverkey"
)

func clusterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Key material shared by several DCs and processes",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "init DIR",
		Short: "Create a cluster directory: the RSA key and secret every DC shares",
		Long: `Create DIR with a new RSA key (private.pem, published as public.pem) and a
32-byte cluster secret (cluster.secret). Copy DIR to every machine and start every
process of every DC with --cluster DIR: clients trust the one public key on all DCs,
as with Telegram, and the DCs trust each other's exported authorizations, file
references and server salts. It refuses a directory that holds keys already.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := cluster.Init(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cluster keys in %s: key fingerprint %d, clients load %s\n",
				args[0], k.RSA.Fingerprint, filepath.Join(args[0], "public.pem"))
			return nil
		},
	})
	return cmd
}

// dcKeys returns the RSA key, the secret and the public key's path: from
// the cluster directory when there is one, else from the data directory
// (created on first start, for a DC that runs alone).
func dcKeys(o serveOptions) (serverkey.Key, []byte, string, error) {
	if o.cluster != "" {
		k, err := cluster.Load(o.cluster)
		if errors.Is(err, fs.ErrNotExist) {
			return serverkey.Key{}, nil, "", fmt.Errorf("--cluster %s: no cluster keys there; create them once with `filedc cluster init %s` and copy the directory to every process", o.cluster, o.cluster)
		}
		if err != nil {
			return serverkey.Key{}, nil, "", fmt.Errorf("--cluster: %w", err)
		}
		return k.RSA, k.Secret, filepath.Join(o.cluster, "public.pem"), nil
	}
	key, err := serverkey.LoadOrCreate(o.data)
	if err != nil {
		return serverkey.Key{}, nil, "", fmt.Errorf("server key: %w", err)
	}
	secret, err := serverkey.Secret(o.data, "salt.secret")
	if err != nil {
		return serverkey.Key{}, nil, "", fmt.Errorf("salt secret: %w", err)
	}
	return key, secret, filepath.Join(o.data, "public.pem"), nil
}

// dcMap builds the cluster's map from --dc-option values. Other DCs must
// share this one's keys, so naming them needs --cluster.
func dcMap(o serveOptions, ln net.Listener) (cluster.Map, error) {
	var opts []cluster.Option
	for _, s := range o.dcOptions {
		opt, err := cluster.ParseOption(s)
		if err != nil {
			return cluster.Map{}, err
		}
		opts = append(opts, opt)
	}
	var listen netip.AddrPort
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		listen = a.AddrPort()
	}
	m, err := cluster.NewMap(o.dc, listen, opts)
	if err != nil {
		return cluster.Map{}, err
	}
	if m.Others() && o.cluster == "" {
		return cluster.Map{}, fmt.Errorf("--dc-option names other DCs: every DC must share one --cluster directory (see `filedc cluster init`)")
	}
	return m, nil
}
