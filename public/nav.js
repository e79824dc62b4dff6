// Moving between screens: the router listens for hash changes.
export const go = (hash, { replace = false } = {}) => {
  if (replace) location.replace(hash);
  else location.hash = hash;
};
