// Command filedc is a self-hostable, Telegram-compatible file data center.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{
		Use:   "filedc",
		Short: "A self-hostable, Telegram-compatible file data center",
		Long: `filedc stores files the way Telegram's data centers do: clients save parts,
finalize them into stored files and download ranges of them, under every rule
and error code of Telegram's file API.`,
		SilenceUsage: true,
	}
	root.AddCommand(serveCmd(), botCmd(), clusterCmd())
	root.AddCommand(uploadCmd(), downloadCmd(), benchCmd())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "filedc:", err)
		os.Exit(1)
	}
}
