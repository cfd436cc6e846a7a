// The application code the test minifies (with a source map): a click handler that fails deep in a call.
function priceOf(cart) {
  if (cart.items.length === 0) {
    throw new Error('cart is empty');
  }
  return cart.items.reduce((sum, item) => sum + item.price, 0);
}

function checkout(cart) {
  const total = priceOf(cart);
  return { total };
}

window.startCheckout = function startCheckout() {
  setTimeout(() => {
    checkout({ items: [] });
  }, 0);
};

window.changeRoute = function changeRoute(apm) {
  history.pushState({}, '', '/cart');
  const tx = apm.startTransaction('/cart', 'route-change', { managed: true, canReuse: true });
  const span = tx.startSpan('render cart', 'app');
  setTimeout(() => {
    span.end();
    tx.end();
  }, 50);
};
