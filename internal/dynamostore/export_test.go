package dynamostore

// SetListReadBudget sets how many index items one List call of s may
// read when it filters by status; 0 means listReadBudget.
func SetListReadBudget(s *Store, n int) { s.listBudget = n }
