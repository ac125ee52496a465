// Package cli is kubectl dora, the Dora CLI as a kubectl plugin (cmd/kubectl-dora only
// wires it): Dora's documents, kind names and verbs, over many zones, one kubeconfig
// context each. It reads and writes the cluster through the API alone and imports only
// api/, internal/doradoc and internal/naming of this module, never a controller.
//
// # What it promises
//
//   - kubectl's connection and output flags work as in kubectl (ConfigFlags: --kubeconfig,
//     --context, -n, --as...; OutputFlags: -o json|yaml|wide|name|jsonpath=...,
//     --no-headers), plus -z/--zone, -g/--group (--workspace) and -o dora.
//   - The zone and workspace of a command come from its flags, else the plugin config
//     (Config), else the caller's Dora User (found through a SelfSubjectReview), else the
//     kubeconfig (Env.CurrentZone, Session.Workspace).
//   - apply and delete -f are all or nothing: every document is translated (Translate) and
//     planned into zones (MakePlan), every write checked as a server dry run, before any is
//     made; every refusal names the file, the document, its kind and name, and the field.
//   - Errors say what was tried, where and as whom (Session.Explain); a missing object names
//     the nearest existing one (Session.NotFound).
//
// # Adding a command
//
// A command is one file in this package that registers itself from init:
//
//	func init() { Register("quota", newQuotaCommand) }
//
//	func newQuotaCommand(env *Env) *cobra.Command {
//		out := NewOutputFlags(false)
//		cmd := &cobra.Command{
//			Use:     "quota [--model M]",
//			GroupID: GroupRun, // one of the Group constants: the section of the help
//			Short:   "...",
//			RunE: func(cmd *cobra.Command, args []string) error {
//				s, err := env.Current(cmd.Context()) // the zone's Session (-z, defaults)
//				if err != nil {
//					return err
//				}
//				// s.Client (typed Dora objects), s.Kube (pods, logs, exec, events),
//				// s.Dynamic; s.Workspace(ctx) for the workspace and its namespace;
//				// env.Sessions(ctx, allZones) for --all-zones.
//				// Wrap API errors with s.Explain(err, "listing quotas"), and say a
//				// missing object with s.NotFound(ctx, kind, namespace, workspace, name).
//				// Print tables with PrintTable (SimpleTable, AddRow), objects with
//				// out.PrintObjects.
//				return nil
//			},
//		}
//		out.AddFlags(cmd, true)
//		return cmd
//	}
//
// Register panics on a name used twice. Global flags (-z, -g, --workspace, and kubectl's:
// --user, --context, -n, --as...) are the root's persistent flags: a command must not
// define one of those names again (a credits command takes --dora-user, say, not --user).
// A view that get shows as a kind (kubectl dora get gpus) registers itself with
// RegisterGetView. FindWorkload and FindContainers resolve a WORKLOAD or CONTAINER
// argument; completeWorkloads and the other complete functions give cobra's
// ValidArgsFunction the names of the cluster.
package cli
