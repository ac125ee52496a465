package credits

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/utils/clock"

	"github.com/dora-hpc/dora-operator/internal/credits"
)

// Metrics of the credits, computed when scraped from what the last reconcile of each user
// saw (the week's ledger, the live pods, the prices, the budget): exact at the scrape's
// instant while pods run, with no status write. Only the leader reconciles, so only the
// leader reports them.
var (
	usedDesc = prometheus.NewDesc("dora_credits_used",
		"Credits a user has spent this week in the zone, at the prices per GPU-hour (or core-hour) of the ResourceCredits.",
		[]string{"user", "zone"}, nil)
	remainingDesc = prometheus.NewDesc("dora_credits_remaining",
		"Credits a user has left this week in the zone (weekly budget minus used, never below 0); absent for a user with no budget here.",
		[]string{"user", "zone"}, nil)
	weeklyDesc = prometheus.NewDesc("dora_credits_weekly",
		"A user's weekly budget in the zone, in credits; absent for a user with no budget here.",
		[]string{"user", "zone"}, nil)
	gpuSecondsDesc = prometheus.NewDesc("dora_gpu_seconds_total",
		"GPU-seconds (core-seconds for a priced CPU) a user's pods have run this week, by product; it restarts from 0 at the weekly reset.",
		[]string{"user", "zone", "product"}, nil)
	unpricedDesc = prometheus.NewDesc("dora_credits_unpriced_gpu_seconds_total",
		"The part of dora_gpu_seconds_total run on a product no ResourceCredit priced (charged 0).",
		[]string{"user", "zone", "product"}, nil)
	exhaustedDesc = prometheus.NewDesc("dora_credits_exhausted",
		"1 while a user's weekly budget in the zone is spent (their workloads are held), else 0.",
		[]string{"user", "zone"}, nil)
)

// snapshot is what a reconcile of one user saw.
type snapshot struct {
	has    bool
	budget credits.Number
	ledger credits.Ledger
	live   []credits.PodUsage
	prices credits.Prices
}

// Collector exports the credits of every user this manager reconciled.
type Collector struct {
	zone  string
	week  credits.Week
	clock clock.PassiveClock
	mu    sync.Mutex
	users map[string]snapshot
}

// NewCollector returns an empty Collector for the zone.
func NewCollector(zone string, week credits.Week, clk clock.PassiveClock) *Collector {
	return &Collector{zone: zone, week: week, clock: clk, users: map[string]snapshot{}}
}

// setSnapshot keeps what a reconcile of user saw for the metrics; nil forgets the user.
func (r *Reconciler) setSnapshot(user string, s *snapshot) {
	if r.metrics == nil {
		return
	}
	r.metrics.mu.Lock()
	defer r.metrics.mu.Unlock()
	if s == nil {
		delete(r.metrics.users, user)
		return
	}
	r.metrics.users[user] = *s
}

// Describe sends the metrics' descriptions.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{usedDesc, remainingDesc, weeklyDesc, gpuSecondsDesc, unpricedDesc, exhaustedDesc} {
		ch <- d
	}
}

// Collect computes every user's week at the scrape's instant.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	now := c.clock.Now()
	c.mu.Lock()
	users := make(map[string]snapshot, len(c.users))
	for u, s := range c.users {
		users[u] = s
	}
	c.mu.Unlock()
	for user, s := range users {
		ledger := s.ledger
		if !now.Before(c.week.Next(ledger.Start)) {
			// The week reset since the last reconcile (which is due now): a new week.
			ledger = credits.NewLedger(c.week.Start(now))
		}
		total := credits.Total(ledger, s.live, c.week, now, s.prices)
		used := total.Credits()
		ch <- prometheus.MustNewConstMetric(usedDesc, prometheus.GaugeValue, float(used), user, c.zone)
		exhausted := 0.0
		if s.has {
			ch <- prometheus.MustNewConstMetric(weeklyDesc, prometheus.GaugeValue, float(s.budget), user, c.zone)
			ch <- prometheus.MustNewConstMetric(remainingDesc, prometheus.GaugeValue, float(s.budget.Sub(used).Max(credits.Number{})), user, c.zone)
			if used.Cmp(s.budget) >= 0 {
				exhausted = 1
			}
		}
		ch <- prometheus.MustNewConstMetric(exhaustedDesc, prometheus.GaugeValue, exhausted, user, c.zone)
		for _, p := range total.Breakdown() {
			ch <- prometheus.MustNewConstMetric(gpuSecondsDesc, prometheus.CounterValue, float64(p.GPUSeconds), user, c.zone, p.Product)
			if p.UnpricedGPUSeconds > 0 {
				ch <- prometheus.MustNewConstMetric(unpricedDesc, prometheus.CounterValue, float64(p.UnpricedGPUSeconds), user, c.zone, p.Product)
			}
		}
	}
}

func float(n credits.Number) float64 {
	f, _ := n.Rat().Float64()
	return f
}
