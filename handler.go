package stampfs

import "errors"

// ErrUnknownAsset is returned (wrapped) for a name that is not a counted file
// of the current snapshot.
var ErrUnknownAsset = errors.New("stampfs: unknown asset")
