package credits

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/dora-hpc/dora-operator/internal/credits"
)

// The metrics are the week at the scrape's instant: the closed ledger plus the live pods'
// time up to now, with no write in between.
func TestCollectorReportsTheWeekAtTheScrape(t *testing.T) {
	week := credits.DefaultWeek()
	start := week.Start(t0)
	clk := clocktesting.NewFakePassiveClock(t0)
	c := NewCollector("z", week, clk)
	r := &Reconciler{metrics: c}

	a100, err := credits.NewPriceHistory(credits.PricePeriod{Since: start, PerHour: "2"})
	if err != nil {
		t.Fatal(err)
	}
	prices := credits.Prices{"A100": a100}
	ledger := credits.NewLedger(start)
	ledger.Add(credits.Entry{Product: "A100", PerHour: "2", GPUSeconds: 3600})
	ledger.Add(credits.Entry{Product: "T4", PerHour: credits.Unpriced, GPUSeconds: 60})
	live := []credits.PodUsage{{UID: "p", User: "amedeo", Product: "A100", GPUs: 2, Start: t0}}
	r.setSnapshot("amedeo", &snapshot{has: true, budget: credits.Int(100), ledger: ledger, live: live, prices: prices})
	r.setSnapshot("guest", &snapshot{ledger: credits.NewLedger(start), prices: prices})

	clk.SetTime(t0.Add(30 * time.Minute)) // the live pod ran 2 GPU x 30 min: 2 more credits
	want := `
# HELP dora_credits_used Credits a user has spent this week in the zone, at the prices per GPU-hour (or core-hour) of the ResourceCredits.
# TYPE dora_credits_used gauge
dora_credits_used{user="amedeo",zone="z"} 4
dora_credits_used{user="guest",zone="z"} 0
# HELP dora_credits_remaining Credits a user has left this week in the zone (weekly budget minus used, never below 0); absent for a user with no budget here.
# TYPE dora_credits_remaining gauge
dora_credits_remaining{user="amedeo",zone="z"} 96
# HELP dora_gpu_seconds_total GPU-seconds (core-seconds for a priced CPU) a user's pods have run this week, by product; it restarts from 0 at the weekly reset.
# TYPE dora_gpu_seconds_total counter
dora_gpu_seconds_total{product="A100",user="amedeo",zone="z"} 7200
dora_gpu_seconds_total{product="T4",user="amedeo",zone="z"} 60
# HELP dora_credits_unpriced_gpu_seconds_total The part of dora_gpu_seconds_total run on a product no ResourceCredit priced (charged 0).
# TYPE dora_credits_unpriced_gpu_seconds_total counter
dora_credits_unpriced_gpu_seconds_total{product="T4",user="amedeo",zone="z"} 60
# HELP dora_credits_exhausted 1 while a user's weekly budget in the zone is spent (their workloads are held), else 0.
# TYPE dora_credits_exhausted gauge
dora_credits_exhausted{user="amedeo",zone="z"} 0
dora_credits_exhausted{user="guest",zone="z"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"dora_credits_used", "dora_credits_remaining", "dora_gpu_seconds_total", "dora_credits_unpriced_gpu_seconds_total", "dora_credits_exhausted"); err != nil {
		t.Error(err)
	}

	// After the reset the week starts from nothing, before any reconcile says so.
	clk.SetTime(week.Next(start).Add(time.Second))
	r.setSnapshot("amedeo", &snapshot{has: true, budget: credits.Int(100), ledger: ledger, prices: prices})
	r.setSnapshot("guest", nil) // the User was deleted
	want = `
# HELP dora_credits_used Credits a user has spent this week in the zone, at the prices per GPU-hour (or core-hour) of the ResourceCredits.
# TYPE dora_credits_used gauge
dora_credits_used{user="amedeo",zone="z"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "dora_credits_used"); err != nil {
		t.Error(err)
	}
}
