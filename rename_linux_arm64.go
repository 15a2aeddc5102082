package stampfs

// sysRenameat2 is the number of renameat2(2).
const sysRenameat2 = 276
