//go:build race

package expandcontract

// raceEnabled: the race detector slows everything several times.
const raceEnabled = true
