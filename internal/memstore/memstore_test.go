package memstore_test

import (
	"testing"

	"github.com/stepmon/stepmon/internal/memstore"
	"github.com/stepmon/stepmon/internal/monitor"
	"github.com/stepmon/stepmon/internal/monitor/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) monitor.Store { return memstore.New() })
}
