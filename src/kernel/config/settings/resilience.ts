/** Settings of the resilience area. Owned by that area; each entry is documented in the README's table. */
export const resilienceSettings = {};
