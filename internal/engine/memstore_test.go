package engine_test

import (
	"testing"

	"github.com/stepmon/stepmon/internal/engine"
	"github.com/stepmon/stepmon/internal/engine/enginetest"
)

func TestMemStore(t *testing.T) {
	enginetest.Run(t, func(*testing.T) engine.Store { return engine.NewMemStore() })
}
