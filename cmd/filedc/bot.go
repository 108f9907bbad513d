package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	bbolt "go.etcd.io/bbolt"

	"github.com/filedc/filedc/internal/admin"
	"github.com/filedc/filedc/internal/bots"
	"github.com/filedc/filedc/internal/store/bolt"
)

// botOps is what `filedc bot` does, against a running server's admin API
// or, with none running, on the data directory.
type botOps interface {
	Add(ctx context.Context, name string) (bots.Bot, string, error)
	List(ctx context.Context) ([]bots.Bot, error)
	Revoke(ctx context.Context, id int64) (string, int, error)
}

type botFlags struct {
	data, http, token string
}

func botCmd() *cobra.Command {
	var f botFlags
	cmd := &cobra.Command{
		Use:   "bot",
		Short: "Add, list and revoke bot accounts",
		Long: `Manage bot accounts. With a server running, the commands go through its admin
API on --http (the server's --http address; the admin token is read from
DATA/admin.token, or given with --admin-token). With no server answering
there, they work on the data directory's embedded database, creating the
directory if it is missing.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.data, "data", envOr("FILEDC_DATA", defaultData), "data directory (env FILEDC_DATA)")
	pf.StringVar(&f.http, "http", envOr("FILEDC_HTTP", defaultHTTP), "the running server's --http address (env FILEDC_HTTP)")
	pf.StringVar(&f.token, "admin-token", os.Getenv("FILEDC_ADMIN_TOKEN"), "the server's admin token (env FILEDC_ADMIN_TOKEN; default: read from DATA/admin.token)")

	cmd.AddCommand(&cobra.Command{
		Use:   "add NAME",
		Short: "Create a bot and print its token (ID:SECRET)",
		Long: `Create a bot account and print its token, which clients pass to
auth.importBotAuthorization. NAME is 3 to 32 letters, digits and underscores.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withBots(cmd.Context(), f, func(ops botOps) error {
				_, token, err := ops.Add(cmd.Context(), args[0])
				if err == nil {
					fmt.Fprintln(cmd.OutOrStdout(), token)
				}
				return err
			})
		},
	}, &cobra.Command{
		Use:   "list",
		Short: "List the bots",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withBots(cmd.Context(), f, func(ops botOps) error {
				list, err := ops.List(cmd.Context())
				if err == nil {
					printBots(cmd.OutOrStdout(), list)
				}
				return err
			})
		},
	}, &cobra.Command{
		Use:   "revoke ID",
		Short: "Give a bot a new token and log out everything logged in with the old one",
		Long: `Give the bot a new token, print it, and log out every auth key logged in as
the bot: its clients must log in again with the new token. A token given to
"serve --bot-token" comes back at the next start; change it there too.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("bot id %q: want the number before the colon of its token", args[0])
			}
			return withBots(cmd.Context(), f, func(ops botOps) error {
				token, n, err := ops.Revoke(cmd.Context(), id)
				if err == nil {
					fmt.Fprintln(cmd.OutOrStdout(), token)
					fmt.Fprintf(cmd.ErrOrStderr(), "filedc: %d auth keys logged out\n", n)
				}
				return err
			})
		},
	})
	return cmd
}

// withBots runs f against the running server, or on the data directory
// when no server answers at --http.
func withBots(ctx context.Context, f botFlags, run func(botOps) error) error {
	token := f.token
	if token == "" {
		token = admin.ReadToken(f.data)
	}
	client := &admin.Client{Addr: f.http, Token: token}
	if _, err := client.List(ctx); !errors.Is(err, admin.ErrNoServer) {
		if err != nil {
			return err
		}
		return run(client)
	}
	if err := os.MkdirAll(f.data, 0o700); err != nil {
		return err
	}
	meta, err := bolt.Open(filepath.Join(f.data, "meta.db"))
	if errors.Is(err, bbolt.ErrTimeout) {
		return fmt.Errorf("the data directory %s is in use, by a server that does not answer at --http %s: give its --http address", f.data, f.http)
	}
	if err != nil {
		return err
	}
	defer meta.Close()
	return run(&bots.Service{Accounts: meta, Keys: meta})
}

func printBots(w io.Writer, list []bots.Bot) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED")
	for _, b := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\n", b.ID, b.Name, b.Created.Local().Format(time.DateTime))
	}
	tw.Flush()
}
