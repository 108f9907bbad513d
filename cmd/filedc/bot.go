package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/filedc/filedc/internal/backend"
	"github.com/filedc/filedc/internal/store/bolt"
)

func botCmd() *cobra.Command {
	var data string
	cmd := &cobra.Command{Use: "bot", Short: "Manage bot accounts"}
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Create a bot and print its token (ID:SECRET)",
		Long: `Create a bot account and print its token, which clients pass to
auth.importBotAuthorization. Run it while the server is stopped (the embedded
database allows one process), or give tokens to "filedc serve --bot-token".`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			meta, err := bolt.Open(filepath.Join(data, "meta.db"))
			if err != nil {
				return err
			}
			defer meta.Close()
			token, err := backend.NewBot(cmd.Context(), meta, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), token)
			return nil
		},
	}
	add.Flags().StringVar(&data, "data", envOr("FILEDC_DATA", defaultData), "data directory (env FILEDC_DATA)")
	cmd.AddCommand(add)
	return cmd
}
