/** Settings of the users area. Owned by that area; each entry is documented in the README's table. */
export const usersSettings = {};
