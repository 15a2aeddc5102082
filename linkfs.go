package stampfs

import "errors"

// ErrSymlinkUnsupported is returned (wrapped) when the file system cannot make
// or read symbolic links here.
var ErrSymlinkUnsupported = errors.New("stampfs: symlinks unsupported")
