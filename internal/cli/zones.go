package cli

import (
	"slices"

	"github.com/spf13/cobra"
)

func init() { Register("zones", newZonesCommand) }

func newZonesCommand(env *Env) *cobra.Command {
	var noHeaders bool
	cmd := &cobra.Command{
		Use:     "zones",
		Aliases: []string{"zone"},
		GroupID: GroupSetup,
		Short:   "List the zones (kubeconfig contexts) and which is current; set and choose them",
		Long: `A zone is one cluster, reached through a kubeconfig context. The plugin's config file
($DORA_CONFIG, else $XDG_CONFIG_HOME/dora/config.yaml, else ~/.config/dora/config.yaml)
maps zones to contexts; a context named like a zone works without it.

kubectl dora zones lists them (CURRENT marks the zone commands go to without -z);
zones set adds or changes one; zones use makes one the default.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := env.Config()
			if err != nil {
				return err
			}
			contexts, _, err := env.Contexts()
			if err != nil {
				return err
			}
			current, why, _ := env.CurrentZone(cmd.Context())
			t := SimpleTable("Name", "Context", "Current")
			names := cfg.ZoneNames()
			implicit := len(names) == 0
			if implicit {
				names = contexts
			}
			for _, name := range names {
				z, err := cfg.ResolveZone(name, contexts)
				if err != nil {
					continue
				}
				mark := ""
				if z.Name == current.Name {
					mark = "*"
				}
				ctx := z.Context
				if z.Kubeconfig != "" {
					ctx += " (" + z.Kubeconfig + ")"
				} else if !slices.Contains(contexts, z.Context) {
					ctx += " (no such context)"
				}
				AddRow(t, z.Name, ctx, mark)
			}
			if current.Name != "" && !slices.Contains(names, current.Name) {
				AddRow(t, current.Name, current.Context, "*")
			}
			if err := PrintTable(env.IO.Out, t, false, noHeaders); err != nil {
				return err
			}
			if implicit {
				env.Errf("No zones configured in %s: every kubeconfig context is a zone of its name.\n", cfg.Path())
			}
			if current.Name != "" && why != "" && !noHeaders {
				env.Errf("The current zone is %s (from %s).\n", current.Name, why)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noHeaders, "no-headers", false, "Leave out the headers.")
	cmd.AddCommand(newZonesSetCommand(env), newZonesUseCommand(env))
	return cmd
}

func newZonesSetCommand(env *Env) *cobra.Command {
	var context, kubeconfig string
	cmd := &cobra.Command{
		Use:   "set ZONE --context CONTEXT [--kubeconfig FILE]",
		Short: "Map a zone to a kubeconfig context",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := env.Config()
			if err != nil {
				return err
			}
			if context == "" {
				context = args[0]
			}
			if kubeconfig == "" {
				if contexts, _, err := env.Contexts(); err == nil && !slices.Contains(contexts, context) {
					env.Errf("warning: the kubeconfig has no context %s (yet)\n", context)
				}
			}
			if cfg.Zones == nil {
				cfg.Zones = map[string]ZoneConfig{}
			}
			cfg.Zones[args[0]] = ZoneConfig{Context: context, Kubeconfig: kubeconfig}
			if err := cfg.Save(); err != nil {
				return err
			}
			env.Outf("zone %s is context %s (%s)\n", args[0], context, cfg.Path())
			return nil
		},
	}
	// --context and --kubeconfig are kubectl's flags on the root; here they say what the
	// zone is, so they are this command's own.
	cmd.Flags().StringVar(&context, "context", "", "The kubeconfig context of the zone's cluster (default: the zone's name).")
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "The kubeconfig file holding the context (default: kubectl's).")
	return cmd
}

func newZonesUseCommand(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:               "use ZONE",
		Short:             "Make a zone the default of commands without -z",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeZones(env),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := env.Config()
			if err != nil {
				return err
			}
			contexts, _, err := env.Contexts()
			if err != nil {
				return err
			}
			if _, err := cfg.ResolveZone(args[0], contexts); err != nil {
				return err
			}
			cfg.DefaultZone = args[0]
			if err := cfg.Save(); err != nil {
				return err
			}
			env.Outf("the default zone is %s (%s)\n", args[0], cfg.Path())
			return nil
		},
	}
}
