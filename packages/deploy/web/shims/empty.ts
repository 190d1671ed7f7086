/** Modules the page never runs (logger back ends): present so the bundle resolves. */
export default {};
