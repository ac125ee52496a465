package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	doradev1 "github.com/dora-hpc/dora-operator/api/v1alpha1"
	"github.com/dora-hpc/dora-operator/internal/cli/creditsview"
)

func init() {
	Register("credits", newCreditsCommand)
	Register("usage", newUsageCommand)
}

// FlagDoraUser names the Dora user whose credits to show. It is not --user: that is
// kubectl's own flag (the kubeconfig user), which every command keeps.
const FlagDoraUser = "dora-user"

func newCreditsCommand(env *Env) *cobra.Command {
	var user string
	var allZones, noHeaders bool
	cmd := &cobra.Command{
		Use:     "credits [--dora-user USER] [--all-zones]",
		GroupID: GroupAccount,
		Short:   "Your credits: weekly budget, used, remaining, burn rate, when they run out, next reset",
		Long: `Your credits in the zone, as sshare shows a Slurm share: the weekly budget, what is used
now and what remains, the burn rate of your running containers, when the budget runs out
at that rate, and when the week resets, in your local time zone ($TZ). The figures are the
credit controller's, extrapolated to now at the burn rate.

--dora-user names another Dora user (an administrator's view, or a user whose credits you
may read); --all-zones shows one line per configured zone.`,
		Example: `  kubectl dora credits
  kubectl dora credits --all-zones
  kubectl dora credits --dora-user amedeo.setti -z dc-test-01`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			loc := CallerLocation(env.Getenv)
			now := time.Now()
			if !allZones {
				s, err := env.Current(ctx)
				if err != nil {
					return err
				}
				b, err := zoneBalance(ctx, s, user, now, loc)
				if err != nil {
					return err
				}
				return env.Render(func(out *bytes.Buffer) error { return b.Render(out) })
			}
			sessions, err := env.Sessions(ctx, true)
			if err != nil {
				return err
			}
			var balances []creditsview.Balance
			var errs []error
			for _, s := range sessions {
				b, err := zoneBalance(ctx, s, user, now, loc)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				balances = append(balances, b)
			}
			if len(balances) > 0 {
				if err := env.Render(func(out *bytes.Buffer) error { return creditsview.RenderBalances(out, balances, noHeaders) }); err != nil {
					return err
				}
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().StringVarP(&user, FlagDoraUser, "u", "", "The Dora user whose credits to show (default: you).")
	cmd.Flags().BoolVar(&allZones, "all-zones", false, "One line per configured zone.")
	cmd.Flags().BoolVar(&noHeaders, "no-headers", false, "With --all-zones, leave out the header line.")
	return cmd
}

func newUsageCommand(env *Env) *cobra.Command {
	var user, week, output string
	var noHeaders bool
	cmd := &cobra.Command{
		Use:     "usage [--dora-user USER] [--week WEEK] [-o csv]",
		GroupID: GroupAccount,
		Short:   "Your GPU-hours and credits per product, this week and the weeks kept",
		Long: `Your usage in the zone: GPU-hours and credits per product (GPU model, or a priced CPU),
this week up to the credit controller's last count, and each past week the UserCredit
keeps (the last 8 with usage). --week picks one: 0 this week, 1 last week..., or a date
(2025-01-08: the week holding it). Times are in your local time zone ($TZ). -o csv writes
one row per week and product.`,
		Example: `  kubectl dora usage
  kubectl dora usage --week 1
  kubectl dora usage -o csv > usage.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "" && output != "csv" {
				return fmt.Errorf("-o %s: use csv, or nothing for a table", output)
			}
			ctx := cmd.Context()
			loc := CallerLocation(env.Getenv)
			s, err := env.Current(ctx)
			if err != nil {
				return err
			}
			name, err := creditsUser(ctx, s, user)
			if err != nil {
				return err
			}
			uc, err := readUserCredit(ctx, s, name)
			if err != nil {
				return err
			}
			weeks, err := creditsview.Usage(uc, s.Zone.Name, loc)
			if err != nil {
				return noZoneCredits(err, name, s.Zone.Name)
			}
			if weeks, err = creditsview.SelectWeek(weeks, week, loc); err != nil {
				return err
			}
			return env.Render(func(out *bytes.Buffer) error {
				if output == "csv" {
					return creditsview.WriteUsageCSV(out, weeks)
				}
				return creditsview.RenderUsage(out, weeks, noHeaders)
			})
		},
	}
	cmd.Flags().StringVarP(&user, FlagDoraUser, "u", "", "The Dora user whose usage to show (default: you).")
	cmd.Flags().StringVar(&week, "week", "", "One week: 0 this week, 1 last week..., or a date such as 2025-01-08.")
	cmd.Flags().StringVarP(&output, "output", "o", "", "csv for comma-separated values.")
	cmd.Flags().BoolVar(&noHeaders, "no-headers", false, "Leave out the header line of the table.")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"csv"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// zoneBalance is a user's balance in the session's zone.
func zoneBalance(ctx context.Context, s *Session, user string, now time.Time, loc *time.Location) (creditsview.Balance, error) {
	name, err := creditsUser(ctx, s, user)
	if err != nil {
		return creditsview.Balance{}, err
	}
	uc, err := readUserCredit(ctx, s, name)
	if err != nil {
		return creditsview.Balance{}, err
	}
	b, err := creditsview.BalanceOf(uc, s.Zone.Name, now, loc)
	if err != nil {
		return creditsview.Balance{}, noZoneCredits(err, name, s.Zone.Name)
	}
	return b, nil
}

// creditsUser is the Dora user a credits command is about: the one named, else the caller.
func creditsUser(ctx context.Context, s *Session, named string) (string, error) {
	if named != "" {
		return named, nil
	}
	who, err := s.Identity(ctx)
	if err != nil {
		return "", err
	}
	switch {
	case who.DoraName == "":
		return "", fmt.Errorf("%s is no Dora user, so has no credits of their own in zone %s: name a user with --%s", who.Username, s.Zone.Name, FlagDoraUser)
	case who.User == nil && apierrors.IsNotFound(who.UserErr):
		return "", fmt.Errorf("%s is no Dora user in zone %s (there is no User %s), so has no credits of their own there: name a user with --%s", who.Username, s.Zone.Name, who.DoraName, FlagDoraUser)
	}
	return who.DoraName, nil
}

// readUserCredit reads the UserCredit of a Dora user.
func readUserCredit(ctx context.Context, s *Session, user string) (*doradev1.UserCredit, error) {
	uc := &doradev1.UserCredit{}
	err := s.Client.Get(ctx, client.ObjectKey{Name: ObjectName(user)}, uc)
	switch {
	case err == nil:
		return uc, nil
	case apierrors.IsNotFound(err):
		if u := (&doradev1.User{}); s.Client.Get(ctx, client.ObjectKey{Name: ObjectName(user)}, u) == nil {
			return nil, fmt.Errorf("user %s has no credits counted in zone %s yet (no UserCredit %s): the credit controller makes it for each User; try again in a moment", user, s.Zone.Name, ObjectName(user))
		}
		k, _ := LookupKind("user")
		return nil, s.NotFound(ctx, k, "", "", user)
	case apierrors.IsForbidden(err):
		return nil, s.Explain(err, fmt.Sprintf("reading the credits of %s (usercredit %s; the Dora verb GetOne or Describe on Usercredit, or Credits on User, grants your own)", user, ObjectName(user)))
	}
	return nil, s.Explain(err, fmt.Sprintf("reading the credits of %s (usercredit %s)", user, ObjectName(user)))
}

// noZoneCredits says that a user's UserCredit has nothing for a zone.
func noZoneCredits(err error, user, zone string) error {
	if errors.Is(err, creditsview.ErrNoZone) {
		return fmt.Errorf("user %s has no budget in zone %s and has run nothing there this week", user, zone)
	}
	return fmt.Errorf("the credits of %s in zone %s: %w", user, zone, err)
}

// CallerLocation is the caller's time zone, in which the credit commands show times: $TZ
// (a name of the time zone database such as Europe/Rome, with or without a leading ':';
// "UTC" or empty after the ':' for UTC), else the system's local zone. A TZ that names no
// known zone is the local zone too, as time.Local makes it.
func CallerLocation(getenv func(string) string) *time.Location {
	tz := getenv("TZ")
	if tz == "" {
		return time.Local
	}
	tz = strings.TrimPrefix(tz, ":")
	if tz == "" || tz == "UTC" {
		return time.UTC
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.Local
	}
	return loc
}
