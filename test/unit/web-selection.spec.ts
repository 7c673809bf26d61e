import {
  EMPTY_SELECTION,
  describeSelection,
  headerState,
  isSelected,
  selectAll,
  selectedCount,
  toSelectionInput,
  toggleRow,
} from '../../web/src/selection';
import { formatDate, formatMoney, waitingText } from '../../web/src/format';

const FILTER = { statuses: ['TO_COLLECT'], billingYear: '2018/2019' };

describe('the selection of the list (web/src/selection.ts)', () => {
  test('ticked rows: the count is the ticked rows, the request their ids', () => {
    let s = toggleRow(EMPTY_SELECTION, 'a', true);
    s = toggleRow(s, 'b', true);
    s = toggleRow(s, 'c', true);
    s = toggleRow(s, 'b', false);
    expect(selectedCount(s, 478)).toBe(2);
    expect(isSelected(s, 'a')).toBe(true);
    expect(isSelected(s, 'b')).toBe(false);
    expect(toSelectionInput(s, FILTER, 478)).toEqual({ invoiceIds: ['a', 'c'] });
    expect(headerState(s, 478)).toEqual({ checked: false, mixed: true });
    expect(describeSelection(s, 478)).toBe('2 pièces cochées');
  });

  test('"Tous les résultats": every row of the filter, on every page; the request is the filter, never a list of ids', () => {
    const s = selectAll(true);
    expect(selectedCount(s, 478)).toBe(478);
    expect(isSelected(s, 'on-page-7')).toBe(true);
    expect(toSelectionInput(s, FILTER, 478)).toEqual({ filter: FILTER });
    expect(headerState(s, 478)).toEqual({ checked: true, mixed: false });
  });

  test('unticking under "Tous les résultats" excludes the row; ticking it again takes it back', () => {
    let s = selectAll(true);
    s = toggleRow(s, 'x', false);
    s = toggleRow(s, 'y', false);
    expect(selectedCount(s, 478)).toBe(476);
    expect(isSelected(s, 'x')).toBe(false);
    expect(toSelectionInput(s, FILTER, 478)).toEqual({ filter: FILTER, excludedInvoiceIds: ['x', 'y'] });
    expect(headerState(s, 478)).toEqual({ checked: true, mixed: true });
    expect(describeSelection(s, 478)).toBe('Tous les résultats du filtre (478), sauf 2 décochés');
    s = toggleRow(s, 'y', true);
    expect(selectedCount(s, 478)).toBe(477);
    expect(toSelectionInput(s, FILTER, 478)).toEqual({ filter: FILTER, excludedInvoiceIds: ['x'] });
  });

  test('nothing selected: count 0 and no request (the action button is disabled)', () => {
    expect(selectedCount(EMPTY_SELECTION, 478)).toBe(0);
    expect(toSelectionInput(EMPTY_SELECTION, FILTER, 478)).toBeNull();
    let s = selectAll(true);
    s = toggleRow(s, 'only', false);
    expect(selectedCount(s, 1)).toBe(0);
    expect(toSelectionInput(s, FILTER, 1)).toBeNull();
    expect(selectAll(false)).toBe(EMPTY_SELECTION);
    expect(selectedCount(selectAll(true), 0)).toBe(0);
  });

  test('the selection is never mutated in place (the page compares states)', () => {
    const before = toggleRow(EMPTY_SELECTION, 'a', true);
    toggleRow(before, 'b', true);
    expect(selectedCount(before, 10)).toBe(1);
    expect(selectedCount(EMPTY_SELECTION, 10)).toBe(0);
  });
});

describe('French display (web/src/format.ts)', () => {
  test('amounts from decimal strings, exactly', () => {
    expect(formatMoney('-500.50')).toBe('-500,50\u00a0€');
    expect(formatMoney('0.00')).toBe('0,00\u00a0€');
    expect(formatMoney('1234567.89')).toBe('1\u202f234\u202f567,89\u00a0€');
    expect(formatMoney('300')).toBe('300,00\u00a0€');
    expect(formatMoney(null)).toBe('');
  });
  test('calendar dates as dd/mm/yyyy', () => {
    expect(formatDate('2019-01-25')).toBe('25/01/2019');
  });
});

describe('what a waiting export says (web/src/format.ts waitingText)', () => {
  it('counts the organisation’s exports ahead, names a retry and a queue outage', () => {
    expect(waitingText({ waitingReason: 'TENANT_CONCURRENCY', queuePosition: 4 })).toBe('3 exports de votre structure avant le vôtre.');
    expect(waitingText({ waitingReason: 'TENANT_CONCURRENCY', queuePosition: 1 })).toMatch(/^Votre export démarre dès/);
    expect(waitingText({ waitingReason: 'RETRY', error: { message: 'storage down' } })).toBe('Nouvel essai après une erreur passagère (storage down).');
    expect(waitingText({ waitingReason: 'QUEUE_UNAVAILABLE' })).toMatch(/^Demande enregistrée/);
    expect(waitingText({ waitingReason: null })).toBe('');
  });
});
