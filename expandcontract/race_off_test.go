//go:build !race

package expandcontract

const raceEnabled = false
