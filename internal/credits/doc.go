// Package credits is the accounting under the credit controller: what a pod's running time
// costs, which week it falls in, how much of a weekly budget is left and when it runs out.
//
// It is pure: no client and no clock. Every instant is a parameter, so the controller and
// its tests decide what "now" is.
//
// It promises:
//   - Time is counted in whole seconds of Unix time. An instant counts as the second it falls
//     in, so [from, to) lasts to.Unix()-from.Unix() seconds. Splitting an interval anywhere
//     (a week reset, a price change, a manager restart) never changes the total.
//   - The ledger keeps integers: GPU-seconds per product and price per hour. Credits are
//     derived from it with exact rational arithmetic (Number) and rounded only for display
//     (Number.Format), never on the way.
//   - A pod's charge is read from its own start and end times, so computing it twice gives
//     the same numbers, and closing a pod in a ledger is idempotent: a pod already closed
//     adds nothing.
//   - The week resets on a configured weekday, time of day and IANA zone (Week), correctly
//     across daylight saving changes in that zone.
package credits
